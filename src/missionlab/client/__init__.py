"""The client layer: HTTP transport, retries, deadlines, pagination, the resource tree, the
models of the API's objects and the error tree. It knows nothing of pandas, plotly or widgets."""
