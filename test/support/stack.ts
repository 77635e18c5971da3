import { inject } from 'vitest';

/**
 * The local stack started by global-setup, and this worker's process pointed at it, so a test
 * can also call handler modules and the table directly (for fault injection and for checking
 * that nothing was written).
 */
export const stack = inject('stack');
Object.assign(process.env, stack.env, { POWERTOOLS_LOG_LEVEL: 'ERROR' });
