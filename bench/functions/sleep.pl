#!/usr/bin/perl
# The workload bench's function (image localhost/fnlb-guard/bench-sleep): sleeps ?ms=N milliseconds per call, then
# answers {"sleptMs":N,"pid":P}. It speaks the node's http format over stdin/stdout (one HTTP/1.1
# request after another; the node always sends Content-Length) and signals readiness on FN_READY_FD,
# as the shipped Node functions do. It is Perl because the bench keeps a hot container for each of
# 1000 routes on five nodes: a Node function holds about 40 MB resident, this one about 5 MB, and
# perl is part of every Debian system (perl-base is essential). It exits when stdin ends.
use strict;
use warnings;

binmode STDIN;
binmode STDOUT;
$| = 1;

if (defined $ENV{FN_READY_FD}) {
  open(my $ready, '>&=', $ENV{FN_READY_FD}) or die "FN_READY_FD $ENV{FN_READY_FD}: $!";
  print $ready "ready\n";
  close $ready;
}

while (defined(my $line = <STDIN>)) {
  $line =~ s/\r?\n\z//;
  next if $line eq '';
  my (undef, $target) = split / /, $line;
  my $length = 0;
  while (defined(my $header = <STDIN>)) {
    $header =~ s/\r?\n\z//;
    last if $header eq '';
    $length = $1 if $header =~ /\Acontent-length:\s*(\d+)\z/i;
  }
  my $body = '';
  read(STDIN, $body, $length) if $length > 0;
  my ($ms) = ($target // '') =~ /[?&]ms=(\d+)/;
  $ms //= 0;
  select(undef, undef, undef, $ms / 1000) if $ms > 0;
  my $out = qq({"sleptMs":$ms,"pid":$$});
  print "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " . length($out) . "\r\n\r\n" . $out;
}
