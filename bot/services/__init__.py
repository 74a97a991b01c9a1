"""Services: the steps that change state and say what changed, called by features, jobs and the CLI.

A service never imports a feature, botbuilder, or the jobs package."""
