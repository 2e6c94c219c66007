"""Optuna side of the HPO benchmark: the same objectives, simulator and measurements as
hpo_bench.cc, printed as the same JSON lines. Run with /usr/bin/python3 (python3-optuna 3.1).

    optuna_bench.py quality  [--seeds N] [--trials N]
    optuna_bench.py fidelity [--seeds N] [--parallel P]
    optuna_bench.py overhead [--repeats K]
"""
import argparse
import json
import math
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)


def branin(p):
    x1, x2 = p["x0"], p["x1"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
      [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
_ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(p):
    s = 0.0
    for i in range(4):
        inner = sum(_A[i][j] * (p[f"x{j}"] - _P[i][j]) ** 2 for j in range(6))
        s += _ALPHA[i] * math.exp(-inner)
    return -s


def sphere20(p):
    return sum(p[f"x{i}"] ** 2 for i in range(20))


def rosenbrock20(p):
    return sum(100 * (p[f"x{i+1}"] - p[f"x{i}"] ** 2) ** 2 + (1 - p[f"x{i}"]) ** 2 for i in range(19))


# name -> (function, [(param, low, high)])
OBJECTIVES = {
    "branin": (branin, [("x0", -5, 10), ("x1", 0, 15)]),
    "hartmann6": (hartmann6, [(f"x{i}", 0, 1) for i in range(6)]),
    "sphere20": (sphere20, [(f"x{i}", -5, 5) for i in range(20)]),
    "rosenbrock20": (rosenbrock20, [(f"x{i}", -2, 2) for i in range(20)]),
}

MAX_RESOURCE = 81


def curve_loss(p, r):
    opt_cost = {"adam": 0.0, "rmsprop": 0.05, "sgd": 0.1}[p["optimizer"]]
    final = (0.1 + 0.5 * (math.log10(p["lr"]) + 2.5) ** 2 / 4 + 0.3 * (math.log2(p["width"]) - 8) ** 2 / 16
             + 0.4 * (p["dropout"] - 0.2) ** 2 + opt_cost)
    slowness = 0.5 + 0.5 * (1.0 - math.sqrt(p["lr"]))
    return final + slowness / math.sqrt(r)


def suggest_curve(trial):
    return {
        "lr": trial.suggest_float("lr", 1e-4, 1, log=True),
        "width": trial.suggest_int("width", 16, 1024, log=True),
        "dropout": trial.suggest_float("dropout", 0, 0.7),
        "optimizer": trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"]),
    }


def make_sampler(name, seed):
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def emit(obj):
    print(json.dumps(obj), flush=True)


def quality(args):
    for name, (f, box) in OBJECTIVES.items():
        for sampler in ("tpe", "random"):
            for seed in range(args.seeds):
                study = optuna.create_study(sampler=make_sampler(sampler, seed))
                best, b = [], math.inf

                def objective(trial):
                    p = {k: trial.suggest_float(k, lo, hi) for k, lo, hi in box}
                    return f(p)

                t0 = time.perf_counter()
                study.optimize(objective, n_trials=args.trials)
                secs = time.perf_counter() - t0
                for t in study.trials:
                    b = min(b, t.value)
                    best.append(b)
                emit({"bench": "quality", "impl": "optuna", "objective": name, "sampler": sampler, "seed": seed,
                      "best_50": best[min(49, len(best) - 1)], "best_200": best[199] if len(best) >= 200 else None,
                      "seconds": secs})


def make_pruner(name):
    if name == "asha":  # Optuna's SuccessiveHalvingPruner is the asynchronous variant
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=MAX_RESOURCE, reduction_factor=3)
    return optuna.pruners.NopPruner()


def run_fidelity(pruner, sampler, seed, parallel, target, cap):
    """Same simulated cluster as hpo_bench.cc: `parallel` workers, one resource unit per tick."""
    study = optuna.create_study(sampler=make_sampler(sampler, seed), pruner=make_pruner(pruner))
    running = []  # [trial, params, progress]
    resource, trials = 0, 0
    for t in range(1, cap + 1):
        while len(running) < parallel:
            trial = study.ask()
            running.append([trial, suggest_curve(trial), 0])
            trials += 1
        still = []
        for item in running:
            trial, params, _ = item
            item[2] += 1
            r = item[2]
            resource += 1
            loss = curve_loss(params, r)
            if loss <= target:
                return {"time": t, "resource": resource, "reached": True, "trials": trials}
            trial.report(loss, r)
            if r >= MAX_RESOURCE:
                study.tell(trial, loss)
            elif trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                still.append(item)
        running = still
    return {"time": cap, "resource": resource, "reached": False, "trials": trials}


def fidelity(args):
    target, cap = 0.26, 3000
    for pruner in ("none", "asha", "hyperband"):
        for sampler in ("random", "tpe"):
            for seed in range(args.seeds):
                r = run_fidelity(pruner, sampler, seed, args.parallel, target, cap)
                emit({"bench": "fidelity", "impl": "optuna", "pruner": pruner, "sampler": sampler, "seed": seed,
                      "parallel": args.parallel, "target": target, **r})


def overhead(args):
    import random

    for dims in (2, 20):
        for history in (100, 1000):
            names = [f"x{i}" for i in range(dims)]
            dist = {n: optuna.distributions.FloatDistribution(-5, 5) for n in names}
            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
            rng = random.Random(1)
            trials = []
            for _ in range(history):
                params = {n: rng.uniform(-5, 5) for n in names}
                trials.append(optuna.trial.create_trial(params=params, distributions=dist,
                                                        value=sum(v * v for v in params.values())))
            study.add_trials(trials)
            wall, cpu = [], []
            for _ in range(args.repeats):
                t0, c0 = time.perf_counter(), time.thread_time()
                trial = study.ask()
                v = sum(trial.suggest_float(n, -5, 5) ** 2 for n in names)
                study.tell(trial, v)
                wall.append((time.perf_counter() - t0) * 1e3)
                cpu.append((time.thread_time() - c0) * 1e3)
            wall.sort()
            cpu.sort()
            emit({"bench": "overhead", "impl": "optuna", "sampler": "tpe", "dims": dims, "history": history,
                  "ms_median": wall[len(wall) // 2], "cpu_ms_median": cpu[len(cpu) // 2]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["quality", "fidelity", "overhead"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    {"quality": quality, "fidelity": fidelity, "overhead": overhead}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
