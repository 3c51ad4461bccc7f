"""Response units (patrol cars, foot patrols, ambulances): the registry and which incidents they are on."""
