"""Differential test: every corpus line, run by the Mirage shell over a RAM workspace and by
GNU bash + coreutils in a temp folder with the same files, gives the same stdout and exit code."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.differential.fixture import FILES
from tests.differential.harness import (
    has_reference_tools, load_corpus, reference_tools, run_bash, run_mirage,
)
from tests.differential.known_mismatches import KNOWN

pytestmark = pytest.mark.skipif(not has_reference_tools(),
                                reason="needs /bin/bash, gawk and jq (apt-get install gawk jq)")


def test_corpus_has_at_least_300_lines():
    assert len(load_corpus()) >= 300


def test_every_known_mismatch_is_in_the_corpus_with_a_reason():
    corpus = set(load_corpus())
    for line, reason in KNOWN.items():
        assert line in corpus, f"stale known mismatch: {line!r}"
        assert reason.strip(), f"no reason given for {line!r}"


def test_mirage_shell_matches_bash_on_the_corpus(capsys):
    corpus = load_corpus()
    tools = reference_tools()

    async def mirage_all():
        return [await run_mirage(line, FILES) for line in corpus]

    mirage_results = asyncio.run(mirage_all())
    with ThreadPoolExecutor(max_workers=4) as pool:      # bash runs are separate processes
        bash_results = list(pool.map(lambda line: run_bash(line, FILES, tools), corpus))
    unexpected, fixed = [], []
    matched = 0
    for line, (m_out, m_code), (b_out, b_code) in zip(corpus, mirage_results, bash_results):
        same = (m_out, m_code) == (b_out, b_code)
        matched += same
        if not same and line not in KNOWN:
            unexpected.append(f"{line!r}\n   mirage: {m_code} {m_out[:300]!r}\n   bash:   {b_code} {b_out[:300]!r}")
        if same and line in KNOWN:
            fixed.append(line)
    with capsys.disabled():
        print(f"\ndifferential corpus: {len(corpus)} lines, {matched} match "
              f"({100 * matched / len(corpus):.1f}%), {len(KNOWN)} known mismatches")
    assert not unexpected, f"{len(unexpected)} lines differ from bash:\n" + "\n".join(unexpected)
    assert not fixed, "known mismatches that now match (remove them from the list): " + repr(fixed)
