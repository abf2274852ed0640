"""Where blobs come from. Only this package runs git."""
