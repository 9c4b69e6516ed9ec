"""The figures layer: plotly figures of one run (the Gantt, live and replayed) and of many
(charts across runs), drawn from frames."""
