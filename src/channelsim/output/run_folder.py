"""The folder of `channelsim run`, written replicate by replicate as replicates finish.

Each finished replicate is one Parquet file in `replicates/` (its weekly series; its KPIs
and seed in the file's metadata), written atomically, so memory stays flat however many
replicates there are, and a run killed at any moment keeps every replicate it finished:
`--resume` runs only the others. At the end the parts are joined into the same
`kpis.csv`, `timeseries.parquet`, `summary.csv` and charts that `save_run` writes from
memory (row group by row group, never the whole table at once), and then removed.

A part is trusted only if it is a regular file inside the folder, readable, names a
replicate of this run with its seed, and has the KPIs and weekly columns of the others.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from channelsim.experiments import warmup
from channelsim.experiments.replicates import RunOutput
from channelsim.experiments.sweep import code_fingerprint
from channelsim.model.kpis import KPIS
from channelsim.output import display
from channelsim.scenario.schema import Scenario
from channelsim.storage import results

PARTS = "replicates"
KPIS_KEY = b"channelsim.kpis"
PART_NAME = re.compile(r"replicate-(\d{6})\.parquet")
RUN_FILES = ["kpis.csv", "timeseries.parquet", "summary.csv", "charts/"]


class RunFolder:
    """Where one `run` streams its replicates; `open` prepares or resumes it under a lock."""

    def __init__(
        self,
        path: Path,
        scenario: Scenario,
        base_seed: int,
        seeds: list[int],
        workers: int = 1,
        command: str = "",
    ) -> None:
        self.folder = results.ResultsDir(path)
        self.path = Path(path)
        self.scenario = scenario
        self.base_seed = base_seed
        self.seeds = seeds
        self.workers = workers
        self.manifest = results.manifest(
            command,
            kind="run",
            status="incomplete",
            scenario=scenario.model_dump(mode="json"),
            base_seed=base_seed,
            replicates=len(seeds),
            seeds=seeds,
            workers=workers,
            code=code_fingerprint(),
        )

    @contextmanager
    def open(self, resume: bool = False) -> Iterator[RunFolder]:
        """Create the folder (or check the one to resume) and hold its lock throughout."""
        existing = self.path / "manifest.json"
        if resume and existing.is_file():
            self.folder.check(allow_existing=True)
        else:
            self.folder.check()
        with self.folder.locked():
            if resume and existing.is_file():
                self._check_same(results.read_manifest(self.path))
                results.write_text(self.path / results.INCOMPLETE, results.INCOMPLETE_TEXT)
            else:
                self.folder.create(allow_existing=True)
            results.write_json(existing, self.manifest)
            yield self

    def _check_same(self, old: dict[str, Any]) -> None:
        if old.get("kind") != "run":
            raise results.ResultsError(
                f"{self.path}: not the folder of a 'channelsim run' (kind {old.get('kind')!r})"
            )
        for key, label in (("code", "the channelsim code"), ("scenario", "the scenario")):
            if old.get(key) != self.manifest[key]:
                raise results.ResultsError(
                    f"{self.path}: cannot resume: {label} changed since this run started; "
                    "choose another --out"
                )
        if old.get("seeds") != self.seeds:
            raise results.ResultsError(
                f"{self.path}: cannot resume: the replicate seeds differ (another --seed or "
                "--replicates); use the same options or choose another --out"
            )

    def saved(self) -> set[int]:
        """Replicates already in the folder, each checked; a leftover temporary file goes."""
        parts = self.path / PARTS
        if not parts.is_dir():
            return set()
        results.remove_leftovers(parts)
        done: set[int] = set()
        reference: pa.Schema | None = None
        for part in sorted(parts.iterdir()):
            replicate, schema = self._check_part(part)
            if reference is not None and not schema.equals(reference, check_metadata=False):
                raise _bad_part(part, "its weekly columns differ from the other replicates'")
            reference = schema
            done.add(replicate)
        return done

    def _check_part(self, part: Path) -> tuple[int, pa.Schema]:
        match = PART_NAME.fullmatch(part.name)
        if not match or part.is_symlink() or not part.is_file():
            raise _bad_part(part, "not a replicate file of this run")
        replicate = int(match.group(1))
        if replicate >= len(self.seeds):
            raise _bad_part(part, f"replicate {replicate} is outside 0..{len(self.seeds) - 1}")
        try:
            file = pq.ParquetFile(part)
            meta = json.loads((file.schema_arrow.metadata or {})[KPIS_KEY])
        except Exception as exc:  # noqa: BLE001 - any unreadable part gets the same advice
            raise _bad_part(part, f"unreadable ({type(exc).__name__})") from None
        schema = file.schema_arrow
        if not isinstance(meta, dict) or meta.get("replicate") != replicate:
            raise _bad_part(part, "its KPIs do not name this replicate")
        if meta.get("seed") != self.seeds[replicate]:
            raise _bad_part(part, "its seed is not this run's seed for that replicate")
        kpis = meta.get("kpis")
        if not isinstance(kpis, dict) or set(kpis) != set(KPIS):
            raise _bad_part(part, "its KPIs are missing or not channelsim's")
        if not all(isinstance(v, int | float) and not math.isinf(v) for v in kpis.values()):
            raise _bad_part(part, "a KPI is not a finite number")
        rows = self.scenario.warmup() + self.scenario.weeks  # the warm-up's weeks are kept too
        if "week" not in schema.names or file.metadata.num_rows != rows:
            raise _bad_part(part, f"expected {rows} weekly rows")
        return replicate, schema

    def add(self, output: RunOutput) -> None:
        """Write one finished replicate (atomically) and forget it."""
        replicate = int(output.labels["replicate"])
        frame = output.weekly.copy()
        frame.insert(0, "replicate", replicate)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = {"replicate": replicate, "seed": output.seed, "kpis": output.kpis}
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), KPIS_KEY: json.dumps(meta, default=_plain).encode()}
        )
        path = self.path / PARTS / f"replicate-{replicate:06d}.parquet"
        results.write_part(path, lambda tmp: pq.write_table(table, tmp))

    def finish(self, charts: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Join the parts into the final tables and charts (unless `charts` is false), mark
        complete; (kpis, summary)."""
        from channelsim.experiments import stats
        from channelsim.experiments.bounds import bounds_table

        parts = [self.path / PARTS / f"replicate-{i:06d}.parquet" for i in range(len(self.seeds))]
        missing = [p.name for p in parts if not p.is_file()]
        if missing:
            raise results.ResultsError(
                f"{self.path / PARTS}: {len(missing)} replicate(s) missing ({missing[0]}, ...); "
                "continue with --resume"
            )
        rows = []
        for part in parts:
            meta = json.loads(pq.read_schema(part).metadata[KPIS_KEY])
            rows.append({"replicate": meta["replicate"], "seed": meta["seed"], **meta["kpis"]})
        kpis = pd.DataFrame(rows)
        results.write_csv(self.folder.file("kpis.csv"), kpis)
        timeseries = self.folder.file("timeseries.parquet")
        results.atomic_write(timeseries, lambda tmp: _join(parts, tmp))
        summary = stats.summarise_kpis(
            kpis, KPIS, bounds=bounds_table({self.scenario.name: self.scenario})
        )
        results.write_csv(self.folder.file("summary.csv"), summary)
        if charts:
            self._draw(kpis, timeseries)
        for part in parts:
            part.unlink()
        (self.path / PARTS).rmdir()
        files = RUN_FILES if charts else [f for f in RUN_FILES if f != "charts/"]
        notes = display.warmup_notes(warmup.warmup_losses(_warmup_columns(timeseries)))
        self.folder.complete({**self.manifest, "warmup_notes": notes, "files": files})
        return kpis, summary

    def _draw(self, kpis: pd.DataFrame, timeseries: Path) -> None:
        from channelsim.output import charts, network, rendering  # matplotlib: when drawing

        weekly = pd.read_parquet(timeseries)
        recipes = {
            **charts.run_recipes(kpis, weekly, self.scenario.currency),
            **network.network_recipes([self.scenario]),
        }
        rendering.save_recipes(recipes, self.folder.file("charts"), self.workers)


def _warmup_columns(timeseries: Path) -> pd.DataFrame:
    """The weekly columns `experiments.warmup` reads, without the rest of the table."""
    names = set(pq.read_schema(timeseries).names)
    wanted = ["replicate", "week", "dealers_active", *warmup.COUNTED]
    return pd.read_parquet(timeseries, columns=[c for c in wanted if c in names])


def _join(parts: list[Path], target: Path) -> None:
    """One Parquet file from the parts, one row group each, without loading them all."""
    first = pq.read_schema(parts[0])
    schema = first.with_metadata({k: v for k, v in first.metadata.items() if k != KPIS_KEY})
    with pq.ParquetWriter(target, schema) as writer:
        for part in parts:
            writer.write_table(pq.read_table(part).replace_schema_metadata(schema.metadata))


def _bad_part(part: Path, why: str) -> results.ResultsError:
    return results.ResultsError(
        f"{part}: {why}; delete it and --resume to run that replicate again"
    )


def _plain(value: Any) -> Any:
    """numpy scalars in KPIs as plain numbers for JSON."""
    return value.item() if hasattr(value, "item") else str(value)
