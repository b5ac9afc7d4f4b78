-- The vector type that every later table stores its embeddings in.
CREATE EXTENSION IF NOT EXISTS vector;
