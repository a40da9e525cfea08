"""Index: the LanceDB tables on disk (chunks, files, vectors, file summaries), the indexer that
fills them with what changed, the background refine, snapshots and validation."""
