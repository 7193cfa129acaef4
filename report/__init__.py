"""`ketenwacht report`: the after-action report of a recording, in Markdown or HTML."""
