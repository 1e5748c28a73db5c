// npm run bench -- cluster-faults: the fault figures of the cluster on long streams. Requests flow
// through two `onnxforge worker` processes on one redis-server; a third of the way in, one worker is
// SIGKILLed, or Redis is restarted without persistence (everything in it lost). Each answer is compared
// with onnxruntime in-process; the tally says how many requests were submitted, answered right, lost,
// and how many jobs ran to completion twice.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RedisServer, redisAbsent } from '../test/helpers/redis';
import { smallMlp } from '../test/runtime/fixtures';
import { runFaultStream, type FaultTally, type StreamFault } from '../test/cluster/fault-stream';
import { FAST_CONFIG, repositoryWith } from '../test/cluster/workers';
import { benchFlags } from './flags';
import { writeResults } from './results';

const FAULTS: StreamFault[] = ['sigkill-worker', 'redis-restart'];

function markdown(tallies: FaultTally[], machine: string, jobs: number, concurrency: number, rounds: number, load: number[]): string {
  return [
    `# cluster faults: ${jobs} requests per stream, ${concurrency} in flight, two worker processes, one redis-server (${machine})`,
    '',
    `Load average when the suite started: ${load.map((l) => l.toFixed(2)).join(' ')} (the machine is shared).`,
    `Each stream: small MLP (8-16-4), one row per request, workers with --concurrency 4 --lock-duration 1000 --stalled-interval 500. A third of the way in (after ${Math.round(jobs / 3)} answers) the fault strikes: sigkill-worker kills one worker with SIGKILL; redis-restart kills redis-server and starts a new, empty one on the same port (no persistence: jobs, events and registrations are gone). ${rounds} streams per fault.`,
    '',
    '| fault | round | submitted | answered right | wrong | failed | lost | jobs completed twice | answers from a rerun | left in queue |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...tallies.map((t, i) => `| ${t.fault} | ${(i % rounds) + 1} | ${t.submitted} | ${t.completed} | ${t.wrong} | ${t.failed} | ${t.lost} | ${t.completedTwice} | ${t.rerun} | ${t.leftover} |`),
    '',
    'answered right: outputs equal, value for value, to onnxruntime in-process on the same input. lost: no answer 60 s after the stream began.',
    'jobs completed twice (the duplicates): job ids completed more than once on the queue\'s event stream. A request still settles once: the client takes the first completion of its job and drops any later one. After a SIGKILL the dead worker cannot complete what it held, so the survivor\'s run is the only one. After a Redis restart, a job that finished just before it, whose completed event the client had not read yet, is gone with everything else; the client submits it again and it runs again (at-least-once): one answer, two runs.',
    'answers from a rerun: the job had started before (on the killed worker; after Redis lost it, a job starts afresh and counts 1).',
    '',
  ].join('\n');
}

export async function runClusterFaultsBench(args: string[]): Promise<void> {
  const { flag, outDir } = benchFlags(args);
  const absent = redisAbsent();
  if (absent) throw new Error(`the cluster-faults bench needs redis-server: ${absent}`);
  const jobs = Number(flag('jobs') ?? 3000);
  const concurrency = Number(flag('concurrency') ?? 16);
  const rounds = Number(flag('rounds') ?? 3);
  const machine = `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} logical cores, Node ${process.version}`;
  const load = os.loadavg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-bench-faults-'));
  const model = smallMlp(5);
  repositoryWith(dir, 'mlp', FAST_CONFIG);
  const redis = await RedisServer.start();
  const tallies: FaultTally[] = [];
  try {
    for (const fault of FAULTS) {
      for (let round = 0; round < rounds; round++) {
        process.stderr.write(`cluster-faults: ${fault}, round ${round + 1}\n`);
        tallies.push(await runFaultStream({ redis, repo: dir, model, prefix: `bench-faults-${fault}-${round}`, fault, jobs, concurrency, faultAfter: Math.round(jobs / 3), deadlineMs: 60000 }));
      }
    }
  } finally {
    await redis.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  writeResults(outDir, 'cluster-faults', { suite: 'cluster-faults', machine, loadAverage: load, jobs, concurrency, tallies }, markdown(tallies, machine, jobs, concurrency, rounds, load));
}
