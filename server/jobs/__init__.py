"""Job running and persistence; no FastAPI imports here, so each piece can be tested and replaced alone."""
