// A model's calls reach its queue in the order they were made, also when one of them first loads its module on first
// use (fine_tune.ts, adapters.ts: import(), so that pages which never call them never download them): the calls made
// after it wait until it has sent its request (index.ts's request() awaits `pending`).
export class CallOrder {
  private gate: Promise<void> | undefined;

  // Settles once every call that was loading its module when this was read has sent its request; undefined: none.
  get pending(): Promise<void> | undefined {
    return this.gate;
  }

  // call(module) once `loading` has the module and the loading calls made before this one have sent their
  // requests. `call` must send its request before its first await, as the model's other calls do.
  async afterLoading<M, R>(loading: Promise<M>, call: (module: M) => Promise<R>): Promise<R> {
    const before = this.gate;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.gate = gate;
    try {
      const module = await loading;
      if (before) await before;
      return call(module);  // not awaited here: the calls after this one go once its request is sent, not done
    } finally {
      release();
      if (this.gate === gate) this.gate = undefined;
    }
  }
}
