/**
 * @module lines/platform-process.fixture
 * `faxwire start` in a child process for lines-crash.test.ts and first-start.test.ts: the platform configured
 * from the environment, listening on a free port, which it prints as one JSON line once it is up (with the
 * path of the first API key when this start created it). SIGTERM shuts it down gracefully.
 */
import { pino } from 'pino';
import { startPlatform } from '../cli/start-command.ts';
import { loadConfig } from '../config/config.ts';

const platform = await startPlatform(loadConfig(), { logger: pino({ level: 'silent' }) });
process.stdout.write(
  `${JSON.stringify({ address: platform.address, initialKeyPath: platform.initialKeyPath })}\n`,
);
process.once('SIGTERM', () => {
  void platform.close().then(() => process.exit(0));
});
