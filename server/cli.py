"""`nnplay serve | train SPEC.json | predict MODEL IMAGE.png | doctor`. Heavy imports stay inside the commands
(a spawned job worker re-imports this module and must not load numpy before its thread settings)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


def unauthenticated_refusal(host: str) -> str:
    return (f"nnplay serve: refusing to listen on {host} without a token: every machine that can reach it could "
            f"start, pause and delete jobs. Set NNPLAY_API_TOKEN=<a secret> (the page asks for it once), or pass "
            f"--allow-unauthenticated if everyone on this network may drive the server.")


def cmd_serve(args) -> int:
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from .main import create_app
    from .security import bind_names, is_loopback, log_config, split_names
    from .settings import Settings

    settings = Settings()
    if args.workers_jobs:
        settings.workers_jobs = args.workers_jobs
    if args.threads is not None:
        settings.threads = args.threads
    if args.executor:
        settings.executor = args.executor
    if args.ray_address:
        settings.ray_address = args.ray_address
    if settings.executor == "ray":
        from .jobs.ray_executor import INSTALL_HINT, ray_available
        if not ray_available():
            print(f"nnplay serve: {INSTALL_HINT}", file=sys.stderr)
            return 2
    if not (settings.api_token or is_loopback(args.host) or args.allow_unauthenticated):
        print(unauthenticated_refusal(args.host), file=sys.stderr)
        return 2
    settings.allowed_hosts = [*settings.allowed_hosts, *bind_names(args.host), *split_names(args.allowed_hosts)]
    refusal = check_home(settings, reset_db=args.reset_db)
    if refusal:
        print(f"nnplay serve: {refusal}", file=sys.stderr)
        return 2
    print(f"NN Playground on http://{args.host}:{args.port}  (data: {settings.home}, "
          f"{settings.workers_jobs} job worker(s), BLAS threads per job: {settings.threads}, "
          f"executor {settings.executor})", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level,
                log_config=log_config(LOGGING_CONFIG),  # ?token= never reaches the access log
                ws_per_message_deflate=settings.ws_compression)
    return 0


def check_home(settings, reset_db: bool = False) -> str | None:
    """Why the server cannot start on its home (another server holds it, the database is damaged), else
    None. `reset_db` first moves the database aside (a backup), with the home's lock held."""
    from .home import HomeInUse, HomeLock
    from .jobs.storage import CorruptDatabase, Storage, reset_database

    try:
        with HomeLock(settings.home):
            if reset_db:
                backup = reset_database(settings.db_path)
                print(f"moved the job database to {backup}; starting with an empty history" if backup
                      else f"no job database at {settings.db_path}; starting with an empty history", flush=True)
            Storage(settings.db_path, settings.models_dir).close()
    except (HomeInUse, CorruptDatabase) as e:
        return str(e)
    return None


def cmd_doctor(args) -> int:
    """Check NNPLAY_HOME: who holds it, whether the database reads, model files without a job (and jobs
    without their file), leftover temporary files. Prints what to do; exit 1 when something is wrong."""
    import sqlite3

    from .home import TEMP_PATTERN, holder
    from .jobs.storage import CorruptDatabase, Storage
    from .settings import Settings

    settings = Settings()
    problems: list[str] = []
    print(f"home: {settings.home}")
    pid = holder(settings.home)
    print(f"server: {'none running' if pid is None else f'running (pid {pid})'}")
    try:
        storage = Storage(settings.db_path, settings.models_dir)
    except (CorruptDatabase, sqlite3.Error) as e:
        problems.append(str(e))
        storage = None
    files = {p.name for p in settings.models_dir.glob("*.npz")} if settings.models_dir.is_dir() else set()
    if storage is not None:
        jobs, total = storage.list_jobs(limit=10**9)
        storage.close()
        print(f"database: {settings.db_path} ok, {total} job(s)")
        known = {os.path.basename(j["model_path"]) for j in jobs if j["model_path"]}
        orphans = sorted(files - known)
        if orphans:
            problems.append(f"{len(orphans)} model file(s) in {settings.models_dir} belong to no job "
                            f"(e.g. {orphans[0]}); delete them or keep them as plain model files")
        missing = [j["id"] for j in jobs if j["model_path"] and os.path.basename(j["model_path"]) not in files
                   and j["status"] not in ("queued", "running", "paused")]
        if missing:
            print(f"note: {len(missing)} finished job(s) have no model file (e.g. {missing[0]})")
    temps = sorted(settings.models_dir.glob(TEMP_PATTERN)) if settings.models_dir.is_dir() else []
    if temps and pid is None:
        print(f"note: {len(temps)} leftover temporary file(s); the next `nnplay serve` removes them")
    for problem in problems:
        print(f"problem: {problem}")
    print("all good" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def format_record(record: dict) -> str:
    keys = [k for k in record if k not in ("type", "epoch", "seconds", "examples_per_second")]
    parts = [f"{k}={record[k]:.4g}" if isinstance(record[k], float) else f"{k}={record[k]}" for k in keys]
    return f"epoch {record['epoch']:>5}  " + "  ".join(parts)


def _metric(record: dict, split: str) -> tuple[str, float] | None:
    """('acc', 0.93) or ('r2', 0.8) for a split's score in an epoch record, else None."""
    for key, short in (("accuracy", "acc"), ("r2", "r2")):
        if f"{split}_{key}" in record:
            return short, record[f"{split}_{key}"]
    return None


def progress_postfix(record: dict, with_test_loss: bool = False) -> str:
    """The numbers after the bar: 'loss=0.412 acc=0.875 test_acc=0.86' (what the record has)."""
    parts = []
    for split, prefix in (("train", ""), ("test", "test_")):
        if f"{split}_loss" in record and (split == "train" or with_test_loss):
            parts.append(f"{prefix}loss={record[f'{split}_loss']:.4g}")
        metric = _metric(record, split)
        if metric:
            parts.append(f"{prefix}{metric[0]}={metric[1]:.4g}")
    return " ".join(parts)


def summary_line(result, seconds: float, out: str) -> str:
    """The closing line: outcome, epochs, time, best epoch, last losses and scores, where the model is."""
    last = result.history[-1] if result.history else {}
    message = result.message or result.outcome
    head = message if message.startswith(result.outcome) else f"{result.outcome}: {message}"
    best = f", best epoch {result.best_epoch}" if result.best_epoch else ""
    numbers = progress_postfix(last, with_test_loss=True)
    return (f"{head} ({last.get('epoch', 0)} epochs, {seconds:.1f} s{best})"
            f"{'; ' + numbers if numbers else ''}; model saved to {out}")


def cmd_train(args) -> int:
    from .jobs.threads import apply_job_threads
    from .jobs.worker import set_thread_env
    set_thread_env(1)  # before numpy is imported: one BLAS thread per block of the batch
    from tqdm import tqdm

    import engine
    apply_job_threads(max(1, args.threads))   # the engine's batch split (server/jobs/threads.py)

    try:
        with open(args.spec) as f:
            spec = json.load(f)
        spec = engine.normalize(spec)
    except (OSError, ValueError) as e:  # SpecError is a ValueError
        print(f"nnplay train: {e}", file=sys.stderr)
        return 2
    # one self-rewriting line on a terminal (disable=None: nothing when stderr is a file or a pipe);
    # total None (epochs: null, until the epoch limit) shows a count and a rate instead of an ETA
    bar = tqdm(total=spec["training"]["epochs"], desc="training", unit="epoch", file=sys.stderr,
               disable=None, dynamic_ncols=True, leave=True)

    def on_event(event: dict) -> None:
        if event.get("type") != "epoch":
            return
        if args.verbose:
            bar.write(format_record(event), file=sys.stdout)  # above the bar, which stays the last line
        bar.set_postfix_str(progress_postfix(event), refresh=False)
        bar.update(event["epoch"] - bar.n)

    start = time.perf_counter()
    try:
        result = engine.train(spec, on_event=on_event)
    except (ValueError, MemoryError) as e:
        bar.close()
        print(f"nnplay train: {e}", file=sys.stderr)
        return 1
    bar.close()
    result.model.save(args.out)
    print(summary_line(result, time.perf_counter() - start, args.out), flush=True)
    return 0 if result.outcome in ("completed", "early_stopped") else 1


def cmd_predict(args) -> int:
    import engine
    from engine.digits import predict_drawing

    from .pngdata import decode_data_url

    try:
        model = engine.load_model(args.model)
        if args.image.lower().endswith(".png"):
            import base64

            with open(args.image, "rb") as f:
                url = "data:image/png;base64," + base64.b64encode(f.read()).decode()
            image = decode_data_url(url, 8192, 8192 * 8192)
        else:
            import numpy as np
            from PIL import Image

            image = np.asarray(Image.open(args.image).convert("L"))
        result = predict_drawing(image, model)
    except (OSError, ValueError) as e:
        print(f"nnplay predict: {e}", file=sys.stderr)
        return 2
    ranked = sorted(enumerate(result["probabilities"]), key=lambda t: -t[1])[:3]
    print(f"label {result['label']}  (" + ", ".join(f"{k}: {p:.3f}" for k, p in ranked) + ")")
    return 0


SERVE_EPILOG = """environment:
  NNPLAY_HOME          data folder: job database, model files, lock (default ~/.local/share/nnplay)
  NNPLAY_API_TOKEN     secret needed to start, steer and delete jobs (the page asks for it once)
  NNPLAY_ALLOWED_HOSTS more names the server answers to (like --allowed-hosts)
  NNPLAY_WORKERS_JOBS  jobs that train at once (like --workers-jobs)
  NNPLAY_THREADS       threads per job (like --threads)
  NNPLAY_MAX_*         limits (layers, units, queued jobs, body and image sizes): see /api/catalog's limits

examples:
  nnplay serve                                   # http://127.0.0.1:8000 for this machine
  NNPLAY_API_TOKEN=s3cret nnplay serve --host 0.0.0.0 --allowed-hosts lab.local   # a classroom"""


def _threads_arg(value: str):
    from .jobs.threads import parse_threads
    try:
        return parse_threads(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nnplay", description="NN Playground: train and watch neural networks")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="run the web server", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the playground, the digits page, the runs, the lessons and the API (/docs) on one port.",
        epilog=SERVE_EPILOG)
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every "
                            "interface needs NNPLAY_API_TOKEN or --allow-unauthenticated)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    serve.add_argument("--workers-jobs", type=int, default=None,
                       help="jobs that train at once; more wait in the queue (default: NNPLAY_WORKERS_JOBS, "
                            "else the number of cores)")
    serve.add_argument("--threads", type=_threads_arg, default=None,
                       help="threads per job: auto (default, also NNPLAY_THREADS): the free cores for a job "
                            "that trains alone, one thread each while several train; or a fixed number")
    serve.add_argument("--executor", choices=["local", "thread", "ray"], default=None,
                       help="where jobs train: local (a process per job, the default), thread (threads of the "
                            "server: no isolation, for tests) or ray (tasks on a Ray cluster: pip install "
                            "'nnplay[ray]'); also NNPLAY_EXECUTOR")
    serve.add_argument("--ray-address", default=None,
                       help="the Ray cluster jobs run on (host:port of its head, as `ray start --head` prints; "
                            "also NNPLAY_RAY_ADDRESS); without one, --executor ray starts a Ray instance of its "
                            "own on 127.0.0.1")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                       help="uvicorn's log level (default info: one access-log line per request)")
    serve.add_argument("--allowed-hosts", default="",
                       help="comma-separated names this server answers to besides 127.0.0.1, localhost, [::1] "
                            "and --host (e.g. myhost.local for a classroom; also NNPLAY_ALLOWED_HOSTS)")
    serve.add_argument("--allow-unauthenticated", action="store_true",
                       help="listen on a non-loopback --host without NNPLAY_API_TOKEN (anyone who can reach "
                            "the server can drive it)")
    serve.add_argument("--reset-db", action="store_true",
                       help="move the job database aside (kept as nnplay.sqlite3.bak-<time>) and start with an "
                            "empty history; for a database that cannot be read")
    serve.set_defaults(func=cmd_serve)
    doctor = sub.add_parser("doctor", help="check the data folder (NNPLAY_HOME): lock, database, model files")
    doctor.set_defaults(func=cmd_doctor)
    train = sub.add_parser("train", help="train a job spec in the terminal")
    train.add_argument("spec", help="job spec JSON file")
    train.add_argument("--out", default="model.npz", help="where to write the trained model (.npz)")
    train.add_argument("--threads", type=int, default=1,
                       help="threads for this job (default 1): a conv net's or a large dense net's batch is split "
                            "over them (one BLAS thread each); more than the free cores slows training down")
    train.add_argument("--verbose", "-v", action="store_true",
                       help="also print every epoch's metrics on its own line (default: one progress line on "
                            "a terminal, then a summary)")
    train.set_defaults(func=cmd_train)
    predict = sub.add_parser("predict", help="read a digit image with a saved model")
    predict.add_argument("model", help="model file (.npz) from train or /api/jobs/{id}/model")
    predict.add_argument("image", help="PNG (or any Pillow-readable) image of one digit")
    predict.set_defaults(func=cmd_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
