// The request stage profile of a real `onnxforge serve`: off unless ONNXFORGE_SERVE_PROFILE=1, and
// then one sample per stage for every inference answered.
import type { ChildProcess } from 'child_process';
import type { StageSummary } from '../../lib/runtime/request-profile';
import { rowsInput, smallMlp, writeRepository } from '../runtime/fixtures';
import { fp32Input, post, request } from './http';
import { startServe, stopServe } from './serve-process';

const body = { inputs: [fp32Input(1, 8, rowsInput(1, 8))] };

describe('request stage profile', () => {
  const repo = writeRepository({ mlp: { config: { engine: 'ort', max_batch_size: 4 }, versions: { 1: smallMlp() } } });
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child) await stopServe(child);
    child = undefined;
  });

  test('with ONNXFORGE_SERVE_PROFILE=1 every answered inference adds one sample to every stage', async () => {
    let url: string;
    ({ child, url } = await startServe(repo, [], { ONNXFORGE_SERVE_PROFILE: '1' }));
    for (let i = 0; i < 5; i++) expect((await post(`${url}/v2/models/mlp/infer`, body)).status).toBe(200);
    // A refused request is not a sample: it never reached the engine.
    expect((await post(`${url}/v2/models/mlp/infer`, { inputs: [] })).status).toBe(400);
    const stages = (await request(`${url}/v2/debug/profile`)).json as StageSummary[];
    expect(stages.map((s) => s.stage)).toEqual(expect.arrayContaining(['body read', 'decode', 'validate', 'schedule', 'worker hop', 'encode', 'write', 'compute', 'total in server']));
    for (const s of stages) expect(s.requests).toBe(5);
    const total = stages.find((s) => s.stage === 'total in server')!;
    const compute = stages.find((s) => s.stage === 'compute')!;
    // The engine's time is part of the request's time in the server.
    expect(total.meanMs).toBeGreaterThan(compute.meanMs);
    expect((await post(`${url}/v2/debug/profile/reset`)).status).toBe(200);
    for (const s of (await request(`${url}/v2/debug/profile`)).json as StageSummary[]) expect(s.requests).toBe(0);
  });

  test('without it there is no profile route', async () => {
    let url: string;
    ({ child, url } = await startServe(repo, [], { ONNXFORGE_SERVE_PROFILE: '' }));
    expect((await post(`${url}/v2/models/mlp/infer`, body)).status).toBe(200);
    expect((await request(`${url}/v2/debug/profile`)).status).toBe(404);
  });
});
