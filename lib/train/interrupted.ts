// A training run stopped before its last step (Ctrl-C): its checkpoint continues it.
export class TrainingInterrupted extends Error {
  constructor(readonly step: number, readonly steps: number, readonly checkpoint: string | undefined) {
    super(`stopped at step ${step} of ${steps}; ${checkpoint ? `--resume ${checkpoint} continues from there` : 'no checkpoint was written'}`);
    this.name = 'TrainingInterrupted';
  }
}
