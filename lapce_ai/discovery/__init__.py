"""Discovery: the files of a workspace worth indexing (.gitignore and .lapceignore honoured;
binaries, files over the size cap, symlinks leaving it and vendored folders skipped and counted
by reason), the first step of the pipeline (SPEC §1-2)."""
