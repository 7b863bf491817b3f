"""Fit the hybrid engine's abstention on every public dev set, and sweep its fusion.

    .venv/bin/python scripts/calibrate.py            # fit the logistic model, print the curve
    .venv/bin/python scripts/calibrate.py --sweep    # also sweep dense_weight × sentence_mix

Every dev set is indexed into its own temporary database (vectors come from the shared
embedding cache after the first run). The questions are answered without abstaining; a
logistic model of P(answerable) is fitted over the engine's signals (``Answer.signals``),
with 5-fold cross-validated probabilities for the precision/recall curve, so the operating
point is chosen on questions the fit did not see. The result is printed in the form
``EngineConfig`` takes it; nothing is written.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import load_settings  # noqa: E402
from bot.startup import open_engine  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluation import EvalQuestion, evaluate, first_hit, load_questions  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
XQUAD = EVAL / "xquad-dev"
SETS = {
    "seed": (ROOT / "seeds", [EVAL / "questions.jsonl"]),
    "xquad": (XQUAD / "articles", [XQUAD / "en-paragraph.jsonl", XQUAD / "de-paragraph.jsonl"]),
}
FEATURES = ("coverage", "names_absent", "sentence_cosine", "contrast", "margin", "english")
MAX_FALSE_ABSTENTIONS = 0.015  # per language, leaving room under the 2 %

# set, lang, answerable, features, top-1 hit, declined by a name rule whatever the model says
Row = tuple[str, str, bool, list[float], bool, bool]


async def engines(tmp: Path) -> dict[str, Engine]:
    out: dict[str, Engine] = {}
    for name, (articles, _) in SETS.items():
        settings = load_settings(None).model_copy(
            update={"articles_dir": articles, "database_path": tmp / f"{name}.db"}
        )
        async with await open_engine(settings) as opened:
            engine = opened.engine
        if engine.dense is None:
            raise SystemExit("the encoder is not available: nothing to calibrate")
        out[name] = engine
    return out


def questions(name: str) -> list[EvalQuestion]:
    return [q for path in SETS[name][1] for q in load_questions(path)]


def collect(engine: Engine, name: str) -> list[Row]:
    rows: list[Row] = []
    for o in evaluate(engine, questions(name), abstain=False).outcomes:
        s = o.answer.signals
        english = float(o.answer.language == "en")
        features = [s.get(f, english if f == "english" else 0.0) for f in FEATURES]
        hit = bool(first_hit(o.answer, o.question.expect_any) == 1)
        ruled = bool(s.get("unknown_name"))
        rows.append((name, o.question.lang or "?", o.question.answerable, features, hit, ruled))
    return rows


def scored(row: Row) -> bool:
    """Whether the model decides the question: the engine got as far as its signals (else:
    no word to search for), and no name rule declined it before the model."""
    return bool(row[3][2]) and not row[5]  # the best sentence's cosine is there


def fit(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], l2: float = 1e-2) -> tuple:
    """Logistic regression by Newton's method on standardised features; returns the
    weights and intercept in the raw features' units."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        hess = (z * (p * (1 - p))[:, None]).T @ z + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    raw = w[:-1] / sd
    return raw, float(w[-1] - (w[:-1] * mu / sd).sum())


def predict(model: tuple, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    raw, bias = model
    return 1 / (1 + np.exp(-(x @ raw + bias)))


def curve(rows: list[Row]) -> float:
    x = np.array([r[3] for r in rows])
    y = np.array([float(r[2]) for r in rows])
    folds = np.random.default_rng(0).integers(0, 5, len(rows))
    fitted = np.array([scored(r) for r in rows])
    p = np.zeros(len(rows))  # a question declined before the model stays declined
    for k in range(5):
        train = (folds != k) & fitted
        p[(folds == k) & fitted] = predict(fit(x[train], y[train]), x[(folds == k) & fitted])
    groups = sorted({(r[0], r[1]) for r in rows})
    chosen = 0.0
    print("\nP(answerable) threshold → per set and language: abstained / unanswerable, false")
    for threshold in np.round(np.arange(0.05, 0.81, 0.05), 2):
        cells, ok = [], True
        for g in groups:
            sel = np.array([(r[0], r[1]) == g for r in rows])
            abst = p[sel] < threshold
            yt = y[sel]
            false = int(abst[yt == 1].sum())
            cells.append(
                f"{g[0]}/{g[1]} {int(abst[yt == 0].sum())}/{int((yt == 0).sum())} f{false}"
            )
            ok &= false <= MAX_FALSE_ABSTENTIONS * (yt == 1).sum()
        if ok:
            chosen = float(threshold)
        print(f"  {threshold:.2f}  " + " · ".join(cells))
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="sweep the fusion weights too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsbot-calibrate-") as tmp:
        built = asyncio.run(engines(Path(tmp)))
    if args.sweep:
        print("dense_weight sentence_mix → hit@1 per set and language")
        for weight in (8.0, 10.0, 12.0, 14.0, 16.0, 20.0):
            for mix in (0.4, 0.5, 0.6, 0.7):
                cells = []
                for name, engine in built.items():
                    engine.config = dataclasses.replace(
                        engine.config, dense_weight=weight, sentence_mix=mix
                    )
                    report = evaluate(engine, questions(name), abstain=False)
                    for lang, r in report.by_language().items():
                        cells.append(f"{name}/{lang} {r.hit_at_1:.3f}")
                print(f"  {weight:5.1f} {mix:.1f}  " + " · ".join(cells))
        for engine in built.values():
            engine.config = type(engine.config)()
    rows = [row for name, engine in built.items() for row in collect(engine, name)]
    kept = [r for r in rows if scored(r)]
    raw, bias = fit(np.array([r[3] for r in kept]), np.array([float(r[2]) for r in kept]))
    threshold = curve(rows)
    weights = ", ".join(f"{w:.3f}" for w in raw)
    print(f"\nabstain_weights=({weights}),  # {', '.join(FEATURES)}")
    print(f"abstain_bias={bias:.3f}")
    print(f"abstain_below={threshold:.2f}  # highest with ≤ {MAX_FALSE_ABSTENTIONS:.1%} false")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
