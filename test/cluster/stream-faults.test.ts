// Faults mid-stream: requests keep flowing through two worker processes while one is SIGKILLed or
// Redis restarts (losing everything). Every request gets exactly one answer, the one onnxruntime gives
// in-process, and nothing is left in the queue.
import { RedisServer, redisAbsent } from '../helpers/redis';
import { describeWhen } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';
import { smallMlp } from '../runtime/fixtures';
import { runFaultStream } from './fault-stream';
import { uniquePrefix } from './helpers';
import { FAST_CONFIG, repositoryWith } from './workers';

const JOBS = 120;
const CONCURRENCY = 8;

describeWhen(redisAbsent(), 'cluster faults mid-stream', () => {
  let redis: RedisServer;
  let dir: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = makeTempDir('onnxforge-stream-faults-');
    repositoryWith(dir, 'mlp', FAST_CONFIG);
  });

  afterAll(async () => {
    await redis?.close();
    removeDir(dir);
  });

  const stream = (fault: 'sigkill-worker' | 'redis-restart') =>
    runFaultStream({ redis, repo: dir, model: smallMlp(5), prefix: uniquePrefix(), fault, jobs: JOBS, concurrency: CONCURRENCY, faultAfter: JOBS / 3, deadlineMs: 60000 });

  test('a worker SIGKILLed a third of the way in: every request answered once, right; no job completes twice', async () => {
    const tally = await stream('sigkill-worker');
    expect(tally).toMatchObject({ submitted: JOBS, completed: JOBS, wrong: 0, failed: 0, lost: 0, completedTwice: 0, leftover: 0, reasons: [] });
    // After the kill only the survivor answers: at most the requests in flight then came from the victim.
    expect(tally.byWorker.victim).toBeLessThanOrEqual(JOBS / 3 + CONCURRENCY);
  });

  test('Redis restarted a third of the way in, losing everything: every request answered once, right', async () => {
    const tally = await stream('redis-restart');
    // A job whose completion Redis lost before the client read it runs again (at-least-once); its request still settles once.
    expect(tally).toMatchObject({ submitted: JOBS, completed: JOBS, wrong: 0, failed: 0, lost: 0, leftover: 0, reasons: [] });
  });
});
