"""The workspace shell: bash lines run inside the daemon over a workspace's filesystem.

Parsing is tree-sitter-bash (``parser``); ``interp`` walks the syntax tree with async
pipelines joined by bounded pipes (``streams``); commands are one module each under
``commands``; ``runner.run_line`` applies the per-line time limit and output cap and
makes the line's writes durable; ``jobs`` runs lines in the background. Nothing here
starts a host process or opens a host path: every file goes through ``WorkspaceFS``.
"""

from mirage.workspace.shell.runner import LineResult, Limits, run_line

__all__ = ["LineResult", "Limits", "run_line"]
