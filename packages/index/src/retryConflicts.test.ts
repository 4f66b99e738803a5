import { describe, expect, it } from 'vitest';
import { retryConflicts } from './retryConflicts.js';

// The message LanceDB 0.31.0 gave a writer whose append lost to another process's table creation.
const LOST =
  'lance error: Incompatible transaction: This Append transaction is incompatible with concurrent transaction Overwrite at version 2.';

describe('retryConflicts', () => {
  it('retries a write that lost a commit race until it lands', async () => {
    let calls = 0;
    const result = await retryConflicts(async () => {
      if (++calls < 3) throw new Error(LOST);
      return 'committed';
    });
    expect(result).toBe('committed');
    expect(calls).toBe(3);
  });

  it('gives up after the last attempt, and never retries other errors', async () => {
    let calls = 0;
    await expect(
      retryConflicts(async () => {
        calls++;
        throw new Error(LOST);
      }, 2),
    ).rejects.toThrow('Incompatible transaction');
    expect(calls).toBe(2);
    calls = 0;
    await expect(
      retryConflicts(async () => {
        calls++;
        throw new Error('Append with different schema');
      }),
    ).rejects.toThrow('different schema');
    expect(calls).toBe(1);
  });
});
