// job lifecycle for the playground: Play / Pause / Step / Reset over the REST API and the job socket.
// stream messages land in state: history, boundary, histograms, gradients, run, weights.
import * as api from "./api.js";

const WEIGHTS_EVERY_MS = 700;  // throttle GET /weights while training
const MAX_FRAMES = 2000;        // histogram / gradient frames kept in memory

export const EMPTY_RUN = { status: "idle", epoch: 0, epochs: 0, message: "", outcome: null, job_id: null, examples_per_second: null, batch: null };

// a run that ended in one of these is continued by the next Play or Step (POST /api/jobs init_from: its final
// weights and optimizer state), as TensorFlow Playground's Play does; Reset (or a changed configuration) starts over
const CONTINUES = new Set(["completed", "early_stopped"]);

export function emptyResults() {
  return { history: [], boundary: null, hiddenSpace: null, histograms: [], gradients: [], weights: null,
    run: { ...EMPTY_RUN } };
}

export function createRunner(store, { buildSpec }) {
  let stream = null;
  let weightsTimer = null;
  let lastWeights = 0;
  let pendingStep = false;
  let offset = 0;   // epochs of the runs this one continues: the engine numbers each job's epochs from 1
  let frameSeq = 0;

  const setRun = (patch) => store.update({ run: { ...store.get().run, ...patch } });

  const refreshWeights = async (force = false) => {
    const id = store.get().run.job_id;
    if (!id) return;
    const now = performance.now();
    if (!force && now - lastWeights < WEIGHTS_EVERY_MS) {
      if (!weightsTimer) weightsTimer = setTimeout(() => { weightsTimer = null; refreshWeights(true); }, WEIGHTS_EVERY_MS);
      return;
    }
    lastWeights = now;
    try {
      // the model file appears after the first checkpoint; asking earlier would only 404
      if (!store.get().run.has_model) {
        const job = await api.getJob(id);
        if (!job.has_model) return;
        setRun({ has_model: true });
      }
      const w = await api.getWeights(id);
      if (store.get().run.job_id === id) store.update({ weights: w });
    } catch { /* weights are a nicety; the next refresh retries */ }
  };

  // the weights at the end of a run: the final model file, once the job reports it (a 1-epoch job may end
  // before any checkpoint was written)
  const finalWeights = async (id, tries = 20) => {
    clearTimeout(weightsTimer);
    weightsTimer = null;
    for (let i = 0; i < tries && store.get().run.job_id === id; i++) {
      try {
        const job = await api.getJob(id);
        if (job.has_model && !["running", "queued", "paused"].includes(job.status)) {
          const w = await api.getWeights(id);
          if (store.get().run.job_id === id) store.update({ weights: w, run: { ...store.get().run, has_model: true } });
          return;
        }
      } catch { /* retried below */ }
      await new Promise((ok) => setTimeout(ok, 250));
    }
  };

  const onMessage = (msg) => {
    const s = store.get();
    switch (msg.type) {
      case "status":
        setRun({ status: msg.status, queue_position: msg.queue_position ?? null });
        break;
      case "epoch": {
        const { type, ...raw } = msg;
        const record = { ...raw, epoch: raw.epoch + offset };
        const history = s.history;
        if (!history.length || history[history.length - 1].epoch < record.epoch) history.push(record);
        store.update({ history });
        setRun({ epoch: record.epoch, batch: null, learning_rate: record.learning_rate ?? s.run.learning_rate, examples_per_second: record.examples_per_second ?? s.run.examples_per_second,
          status: s.run.status === "queued" ? "running" : s.run.status });
        refreshWeights();
        break;
      }
      case "boundary":
        frameSeq += 1;   // a frame at the same epoch (a step_batch, a set_weight) is still a new picture
        store.update({ boundary: { ...msg, epoch: msg.epoch + offset, seq: frameSeq } });
        break;
      case "hidden_space":
        store.update({ hiddenSpace: { ...msg, epoch: msg.epoch + offset } });
        break;
      case "histograms": {
        const frames = s.histograms;
        frames.push({ ...msg, epoch: msg.epoch + offset });
        if (frames.length > MAX_FRAMES) frames.splice(0, frames.length - MAX_FRAMES);
        store.update({ histograms: frames });
        break;
      }
      case "gradients": {
        const frames = s.gradients;
        frames.push({ ...msg, epoch: msg.epoch + offset });
        if (frames.length > MAX_FRAMES) frames.splice(0, frames.length - MAX_FRAMES);
        store.update({ gradients: frames });
        break;
      }
      case "done": {
        // the engine's message carries its own advice (diverged, or not learning)
        setRun({ status: msg.status || "completed", outcome: msg.outcome, message: msg.message || "" });
        finalWeights(s.run.job_id);
        stream = null;
        break;
      }
      case "batch":   // a step_batch landed: the epoch under way (epochs done + 1) and the batch reached in it
        setRun({ batch: { epoch: msg.epoch + offset + 1, batch: msg.batch, batches: msg.batches } });
        break;
      case "learning_rate":
        setRun({ learning_rate: msg.learning_rate });
        break;
      case "weights_set": {
        // a set_weight landed in the running model: show it at once (the next GET /weights agrees)
        const w = { ...(s.weights || {}) };
        for (const e of msg.edits) {
          const arr = structuredClone(w[e.key]);
          if (!arr) continue;
          if (e.index.length === 2) arr[e.index[0]][e.index[1]] = e.value; else arr[e.index[0]] = e.value;
          w[e.key] = arr;
        }
        store.update({ weights: w });
        break;
      }
      case "error":
        if (msg.recoverable) { setRun({ message: msg.message }); break; }
        setRun({ status: "failed", message: msg.message || "the job failed" });
        stream = null;
        break;
      default:
        break;
    }
  };

  const start = async ({ paused }) => {
    const before = store.get().run;
    const from = before.job_id && CONTINUES.has(before.status) ? before.job_id : null;
    const spec = from ? { ...buildSpec(), init_from: { job_id: from } } : buildSpec();
    // Step / +1 batch from idle: the job is created paused (a warm worker starts it before a socket could pause it)
    const body = paused ? { ...spec, paused: true } : spec;
    offset = from ? before.epoch : 0;
    const total = (n) => (n ? offset + n : null);   // epochs null: until paused (the engine caps it)
    const run = { ...EMPTY_RUN, status: "starting", epoch: offset, epochs: total(spec.training.epochs) };
    // continuing keeps the curves; histogram edges are fixed per job, so those frames start again
    store.update(from ? { histograms: [], run } : { ...emptyResults(), run });
    let job;
    try {
      job = await api.createJob(body);
    } catch (e) {
      setRun({ status: "invalid", message: e.message });
      return;
    }
    setRun({ job_id: job.id, status: paused ? "paused" : job.status, epochs: total(job.epochs ?? spec.training.epochs) });
    stream = api.openJobStream(job.id, {
      onMessage,
      onState: (st) => store.update({ connection: st }),
    });
    if (paused && pendingStep) { stream.send({ cmd: pendingStep }); pendingStep = false; }
  };

  const active = () => stream && ["running", "queued", "paused", "starting"].includes(store.get().run.status);

  return {
    async play() {
      if (active()) {
        stream.send({ cmd: "resume" });
        setRun({ status: "running" });
        return;
      }
      await start({ paused: false });
    },
    pause() {
      if (!active()) return;
      stream.send({ cmd: "pause" });
      setRun({ status: "paused" });
    },
    async step() {
      if (active()) {
        if (store.get().run.status !== "paused") { stream.send({ cmd: "pause" }); setRun({ status: "paused" }); }
        stream.send({ cmd: "step" });
        return;
      }
      pendingStep = "step";
      await start({ paused: true });
    },
    /** one optimizer step, then pause (a fresh run starts paused, steps once) */
    async stepBatch() {
      if (active()) {
        if (store.get().run.status !== "paused") { stream.send({ cmd: "pause" }); setRun({ status: "paused" }); }
        stream.send({ cmd: "step_batch" });
        return;
      }
      pendingStep = "step_batch";
      await start({ paused: true });
    },
    /** {learning_rate, l1, l2, batch_size, max_epochs_per_second}: taken by a running job without a reset */
    setOptions(patch) {
      const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined && v !== null));
      if (active() && Object.keys(given).length) stream.send({ cmd: "set", ...given });
    },
    /** true when the running job takes the edit (set_weight); false: the caller edits the starting weights */
    setWeight(key, index, value) {
      if (!active()) return false;
      stream.send({ cmd: "set_weight", key, index, value });
      return true;
    },
    async reset() {
      const id = store.get().run.job_id;
      if (stream) { stream.send({ cmd: "cancel" }); stream.close(); stream = null; }
      if (id && active()) api.cancelJob(id).catch(() => {});
      offset = 0;
      store.update(emptyResults());
    },
    setLearningRate(lr) {
      if (active() && Number.isFinite(lr)) stream.send({ cmd: "set", learning_rate: lr });
    },
    isActive: active,
  };
}
