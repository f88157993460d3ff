// Moved to lib/tasks (the CLI's built-in tasks use them too).
export * from '../../lib/tasks/reber';
