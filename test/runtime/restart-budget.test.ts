// RestartBudget: a crash loop cannot spin. The first restart is immediate, later ones back off
// exponentially up to a cap, and one death more than maxRestarts within the window spends the
// budget; deaths that leave the window no longer count. Time is a FakeClock stepped by the test.
import { RestartBudget } from '../../lib/runtime/restart-budget';
import { FakeClock } from './fake-clock';

const policy = { maxRestarts: 4, windowMs: 10_000, backoffMs: 100, maxBackoffMs: 300 };

test('back-to-back deaths: immediate, then 100, 200, 300 (capped) ms, then the budget is spent', () => {
  const budget = new RestartBudget(policy, new FakeClock());
  expect([budget.next(), budget.next(), budget.next(), budget.next()]).toEqual([0, 100, 200, 300]);
  expect(budget.next()).toBeUndefined();
  expect(budget.next()).toBeUndefined();
  expect(budget.describe()).toBe('restarted 4 times within 10 s');
});

test('deaths spread wider than the window never spend the budget, and each restart is immediate', () => {
  const clock = new FakeClock();
  const budget = new RestartBudget(policy, clock);
  for (let i = 0; i < 20; i++) {
    expect(budget.next()).toBe(0);
    clock.advance(10_000);
  }
});

test('a death counts until it is windowMs old: the budget frees one restart at a time', () => {
  const clock = new FakeClock();
  const budget = new RestartBudget(policy, clock);
  for (let i = 0; i < 4; i++) {
    budget.next();
    clock.advance(1_000);
  }
  expect(budget.next()).toBeUndefined();
  // The first death (at 0) leaves the window at 10 000 ms; three remain: the backoff of a fourth restart.
  clock.advance(10_000 - 4_000 - 1);
  expect(budget.next()).toBeUndefined();
  clock.advance(1);
  expect(budget.next()).toBe(300);
});

test('a policy with a negative or fractional value is refused', () => {
  expect(() => new RestartBudget({ ...policy, maxRestarts: -1 }, new FakeClock())).toThrow(/maxRestarts must be a non-negative integer/);
  expect(() => new RestartBudget({ ...policy, windowMs: 1.5 }, new FakeClock())).toThrow(/windowMs/);
});

test('maxRestarts 0: the first death spends the budget', () => {
  expect(new RestartBudget({ ...policy, maxRestarts: 0 }, new FakeClock()).next()).toBeUndefined();
});
