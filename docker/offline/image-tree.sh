# Sourced by the scripts that make images without a registry (docker/offline/bootstrap.sh for the
# base images, scripts/build-fn.sh for an Fn server): an image tree of this host's own binaries, the
# libraries they load and the name-service files, which `docker import` turns into an image. The C
# library in such an image is the very one the binaries were linked against on this host.

# Copies files or folders into the image tree $root at their real paths (the tree has Debian's merged
# /usr layout, so /lib/... and /usr/lib/... are one), and keeps the name a symlink gave them.
copy_into() {
  local root=$1
  shift
  local file real dir
  for file in "$@"; do
    [ -e "$file" ] || continue
    real=$(readlink -f "$file")
    dir=$(readlink -f "$(dirname "$file")")
    mkdir -p "$root$(dirname "$real")" "$root$dir"
    if [ -d "$real" ]; then
      mkdir -p "$root$real"
      cp -a "$real/." "$root$real/"
    else
      cp -a "$real" "$root$real"
    fi
    if [ "$dir/$(basename "$file")" != "$real" ]; then ln -sfn "$real" "$root$dir/$(basename "$file")"; fi
  done
}

# An empty image tree with Debian's merged /usr layout, in a new folder under $1.
new_tree() {
  local root
  # Called as $(new_tree DIR), where errexit does not reach: a failure must not leave an empty name
  # that the caller would take for the host's root.
  root=$(mktemp -d "$1/tree.XXXX") || return 1
  [ -n "$root" ] || return 1
  chmod 755 "$root"
  mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/usr/lib64" "$root/usr/sbin"
  ln -s usr/bin "$root/bin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  ln -s usr/sbin "$root/sbin"
  echo "$root"
}

# The shared libraries `ldd` lists for the given binaries, plus the dynamic loader.
libraries_of() {
  ldd "$@" 2>/dev/null | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}' | sort -u
}

# The name-service pieces every image needs so getpwuid() and DNS lookups of container names work.
add_system_files() {
  local root=$1 extra_users=$2
  mkdir -p "$root/etc" "$root/tmp"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/false\n%snobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    "$extra_users" >"$root/etc/passwd"
  sed -E 's/^([^:]+):x:([0-9]+):.*/\1:x:\2:/' "$root/etc/passwd" >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  copy_into "$root" /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2 \
    /lib/x86_64-linux-gnu/libresolv.so.2
}
