"""Request schemas, one per endpoint. The API validates with them and documents them in
OpenAPI; the services take the validated values."""
