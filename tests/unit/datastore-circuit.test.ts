// The datastore's circuit on a fake clock: open after a failure to answer, one probe at a time, the
// wait doubling to its cap, closed by a success; failures of another kind leave it closed.
import { describe, expect, it } from 'vitest';
import { Circuit } from '../../src/node/datastore/circuit.js';
import { DatastoreUnavailableError } from '../../src/node/datastore/datastore.js';

const down = () => Promise.reject(new DatastoreUnavailableError('no answer'));
const isDown = (error: unknown) => error instanceof DatastoreUnavailableError;

describe('the datastore circuit', () => {
  it('fails at once while open, probes after the wait, doubles it, and closes on success', async () => {
    let now = 0;
    const circuit = new Circuit(500, 2000, () => now);
    let attempts = 0;
    const counted = () => {
      attempts++;
      return down();
    };
    await expect(circuit.run(counted, isDown)).rejects.toThrow('no answer');
    await expect(circuit.run(counted, isDown)).rejects.toThrow(/next try in 500 ms/);
    expect(attempts).toBe(1);
    now = 500;
    await expect(circuit.run(counted, isDown)).rejects.toThrow('no answer');
    expect(attempts).toBe(2);
    now = 1499;
    await expect(circuit.run(counted, isDown)).rejects.toThrow(/next try in 1 ms/);
    now = 1500;
    await expect(circuit.run(counted, isDown)).rejects.toThrow('no answer');
    now = 3500;
    await expect(circuit.run(counted, isDown)).rejects.toThrow('no answer');
    now = 5499;
    await expect(circuit.run(counted, isDown)).rejects.toThrow(/next try/); // capped at 2000 ms
    now = 5500;
    await expect(circuit.run(() => Promise.resolve('up'), isDown)).resolves.toBe('up');
    expect(circuit.open).toBe(false);
    await expect(circuit.run(() => Promise.resolve('again'), isDown)).resolves.toBe('again');
  });

  it('lets one probe through at a time', async () => {
    let now = 0;
    const circuit = new Circuit(100, 1000, () => now);
    await expect(circuit.run(down, isDown)).rejects.toThrow();
    now = 100;
    let finish: (value: string) => void = () => {};
    const probe = circuit.run(() => new Promise<string>((resolve) => (finish = resolve)), isDown);
    await expect(circuit.run(() => Promise.resolve('second'), isDown)).rejects.toThrow(/next try/);
    finish('probed');
    await expect(probe).resolves.toBe('probed');
  });

  it('stays closed for failures that are not the database being away', async () => {
    const circuit = new Circuit(100, 1000, () => 0);
    await expect(circuit.run(() => Promise.reject(new Error('duplicate key')), isDown)).rejects.toThrow(
      'duplicate key',
    );
    await expect(circuit.run(() => Promise.resolve('fine'), isDown)).resolves.toBe('fine');
  });
});
