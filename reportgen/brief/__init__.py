"""Read and check a brief: the YAML spec with line marks, its models, CSV data, validation and integrity checks."""
