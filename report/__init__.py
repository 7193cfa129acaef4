"""The after-action report: a recording folded into a model, rendered as Markdown or HTML."""
