"""The job manager: finished jobs are kept per account."""

import asyncio

from mirage.workspace.shell.jobs import JobManager
from mirage.workspace.shell.runner import LineResult


def test_one_accounts_burst_of_jobs_never_evicts_another_accounts_results():
    async def go():
        jobs = JobManager(keep_finished=3)

        async def quick():
            return LineResult(0, b"", b"")

        alice = jobs.submit("alice", "w", "true", None, quick)
        await alice.task
        for _ in range(10):
            burst = jobs.submit("mallory", "w2", "true", None, quick)
            await burst.task
        jobs.submit("mallory", "w2", "true", None, quick)     # prunes on submit
        kept_for_mallory = [j for j in jobs._jobs.values() if j.account == "mallory" and j.done]
        return jobs.get("alice", alice.id), len(kept_for_mallory)

    alice_job, mallory_finished = asyncio.run(go())
    assert alice_job is not None and alice_job.result.exit_code == 0
    assert mallory_finished == 3

