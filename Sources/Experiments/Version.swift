/// The runexp version printed by `runexp --version` and written into every run's config.
public let runexpVersion = "0.1.0"
