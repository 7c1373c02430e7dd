// Runs before each test file (vitest.config.ts `setupFiles`), also when files share a worker's
// modules (`isolate: false`): hooks every file needs, whatever it imports.
import { afterAll } from 'vitest';
import { dropFreshDatabases } from './database.js';
import { killStartedServers } from './process.js';
import { stopOwnRedisServers } from './redis-server.js';

afterAll(async () => {
  killStartedServers();
  stopOwnRedisServers();
  await dropFreshDatabases();
});
