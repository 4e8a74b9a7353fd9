/**
 * Imported for its effect, by every helper: t.testdir() directories are named per process.
 * tap names them after the test file and test only (.tap/fixtures/<file>-<test>), so two
 * `npm test` runs in one tree shared them: one run's cleanup, or its config file, landed in the
 * other's test (a `serve` child reading the other run's config, pointed at another emulator).
 */
import t from 'tap';

t.testdirName = `${t.testdirName}-${process.pid}`;
