"""The OpenAPI document at ``/schema`` made precise where Litestar cannot be told enough
(document), the links between its operations (links), what the contract's schemas say beyond
what Litestar and msgspec write (json_schema), and the Swagger UI page's files (static/)."""
