import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What LanceDB 0.31 says when a commit lost to a concurrent, incompatible one, e.g. "Incompatible
 * transaction: This Append transaction is incompatible with concurrent transaction Overwrite".
 */
const CONFLICT = /commit conflict|incompatible transaction|retryable/i;

/**
 * Retries a write that lost LanceDB's optimistic commit race to a concurrent writer of an
 * incompatible kind. Appends and deletes of other rows rebase on their own; merge-insert retries
 * within LanceDB first.
 */
export async function retryConflicts<T>(write: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= attempts || !CONFLICT.test(message)) throw error;
      await sleep(25 * 2 ** attempt * (0.5 + Math.random()));
    }
  }
}
