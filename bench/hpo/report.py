"""Reads the JSON lines of hpo_bench and optuna_bench.py and prints the side-by-side tables."""
import json
import sys
from collections import defaultdict


def quantiles(values):
    v = sorted(values)
    n = len(v)

    def q(p):
        x = p * (n - 1)
        lo = int(x)
        hi = min(lo + 1, n - 1)
        return v[lo] + (v[hi] - v[lo]) * (x - lo)

    return q(0.25), q(0.5), q(0.75)


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.2f}"
    return f"{x:.4f}"


def med_iqr(values):
    values = [v for v in values if v is not None and v == v]
    if not values:
        return "-", None
    q1, m, q3 = quantiles(values)
    return f"{fmt(m)} [{fmt(q1)}, {fmt(q3)}]", m


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip().startswith("{")]
    quality = defaultdict(lambda: defaultdict(list))
    fidelity = defaultdict(list)
    overhead = {}
    for r in rows:
        if r["bench"] == "quality":
            key = (r["objective"], r["sampler"], r["impl"])
            quality[key]["best_50"].append(r["best_50"])
            quality[key]["best_200"].append(r["best_200"])
            quality[key]["seconds"].append(r["seconds"])
        elif r["bench"] == "fidelity":
            fidelity[(r["pruner"], r["sampler"], r["impl"])].append(r)
        elif r["bench"] == "overhead":
            overhead[(r["dims"], r["history"], r["impl"])] = r

    print("## Best value found (median [IQR] over seeds; lower is better)\n")
    print("| objective | sampler | impl | seeds | best after 50 | best after 200 | s/run |")
    print("|---|---|---|---|---|---|---|")
    objectives = sorted({k[0] for k in quality}, key=lambda o: ["branin", "hartmann6", "sphere20", "rosenbrock20"].index(o)
                        if o in ["branin", "hartmann6", "sphere20", "rosenbrock20"] else 9)
    verdicts = []
    for obj in objectives:
        for sampler in ("tpe", "random", "gp"):
            for impl in ("stoke", "optuna"):
                d = quality.get((obj, sampler, impl))
                if not d:
                    continue
                b50, m50 = med_iqr(d["best_50"])
                b200, m200 = med_iqr(d["best_200"])
                secs = sorted(d["seconds"])[len(d["seconds"]) // 2]
                print(f"| {obj} | {sampler} | {impl} | {len(d['best_50'])} | {b50} | {b200} | {secs:.3f} |")
        s, o = quality.get((obj, "tpe", "stoke")), quality.get((obj, "tpe", "optuna"))
        if s and o:
            for budget in ("best_50", "best_200"):
                ms, mo = med_iqr(s[budget])[1], med_iqr(o[budget])[1]
                if ms is not None and mo is not None:
                    verdicts.append(f"{obj} @{budget[5:]}: stoke TPE {fmt(ms)} vs optuna TPE {fmt(mo)} -> "
                                    f"{'stoke equal or better' if ms <= mo else 'optuna better'}")
    print()
    for v in verdicts:
        print("- " + v)

    print("\n## Multi-fidelity: time to target (simulated ticks at equal parallelism; median [IQR])\n")
    print("| pruner | sampler | impl | seeds | reached | time to target | resource used | trials started |")
    print("|---|---|---|---|---|---|---|---|")
    for pruner in ("none", "asha", "hyperband"):
        for sampler in ("random", "tpe"):
            for impl in ("stoke", "optuna"):
                rs = fidelity.get((pruner, sampler, impl))
                if not rs:
                    continue
                t, _ = med_iqr([r["time"] for r in rs])
                res, _ = med_iqr([r["resource"] for r in rs])
                tr, _ = med_iqr([r["trials"] for r in rs])
                reached = sum(r["reached"] for r in rs)
                print(f"| {pruner} | {sampler} | {impl} | {len(rs)} | {reached}/{len(rs)} | {t} | {res} | {tr} |")
    if fidelity:
        any_row = next(iter(fidelity.values()))[0]
        print(f"\n(target loss {any_row['target']}, parallelism {any_row['parallel']}, min resource 1, max 81, eta 3;"
              " 'asha' on the Optuna side is its SuccessiveHalvingPruner; unreached runs count as the cap)")

    print("\n## Overhead per suggestion (TPE, ms; CPU time of the calling thread, wall in parentheses)\n")
    print("| dims | finished trials | stoke ms | optuna ms | optuna / stoke |")
    print("|---|---|---|---|---|")
    for dims in (2, 20):
        for history in (100, 1000):
            s, o = overhead.get((dims, history, "stoke")), overhead.get((dims, history, "optuna"))
            if not s or not o:
                continue
            ratio = o["cpu_ms_median"] / max(s["cpu_ms_median"], 1e-9)
            print(f"| {dims} | {history} | {s['cpu_ms_median']:.3f} ({s['ms_median']:.3f}) | "
                  f"{o['cpu_ms_median']:.2f} ({o['ms_median']:.2f}) | {ratio:.0f}x |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdin")
