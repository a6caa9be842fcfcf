"""Forms of the allocation app's pages, one module per portal. Forms validate input; services change state."""
