/// A field of a config section, as the key tables name it (`\ModelConfig.baseC`).
typealias ConfigField<Section, Value> = WritableKeyPath<Section, Value> & Sendable

/// Requirements on a key's value once it is read: each `(holds, requirement)` whose
/// condition is false is reported at the value as "model.base_c must be >= 1, got 0".
typealias ConfigChecks<Section> = @Sendable (Section) -> [(Bool, String)]

/// One key of a config section, declared once in the section's `keys` table: its name, the
/// field it fills, when it applies, and how its value is read, checked and written. The
/// tables are the key list (unknown-key, `--set` and sweep path errors), the reader, the
/// order of the canonical `config.yaml`, and the test of which settings a run uses.
///
/// A key that does not apply (`model.base_c` under `name: fcn`) is not read, so a base
/// file's settings never block an override; it is left out of `config.yaml`; and sweeping
/// or `--set`ting it is an error, since it would change nothing. Its default is the value
/// the field holds before reading: the section's `init()` default (a stage's `batch_size`
/// and `lr` start from the schedule's and the optimizer's).
struct ConfigKey<Section>: Sendable {
    let name: String
    /// A value, or the keys of a nested section or of a list's entries.
    let schema: ConfigSchema
    /// Whether the key applies. The reader asks once the keys before it are read; the
    /// writer and the sweep and `--set` checks ask the finished config (in which a one-epoch
    /// run has dropped its default warmup, so `warmup.factor` no longer applies).
    let applies: @Sendable (Section) -> Bool
    /// Reads the key into the section (an absent key leaves the default).
    let read: @Sendable (inout Section, SectionReader) -> Void
    /// Writes the key's line, or its block, of `config.yaml`.
    let write: @Sendable (Section, inout YAMLWriter) -> Void
    /// Whether the setting at a path below the key (`warmup` → `epochs`) applies.
    let appliesBelow: @Sendable (Section, ArraySlice<String>) -> Bool
}

extension ConfigKey {
    /// A value: read by `reading` when written (`default` computes the value an absent or
    /// unreadable key gets, where that depends on keys before it), then checked; written
    /// as `writing` gives it, or left out of `config.yaml` where that is nil.
    static func value<V>(_ name: String, _ field: ConfigField<Section, V>,
                         when applies: @escaping @Sendable (Section) -> Bool = { _ in true },
                         default fallback: (@Sendable (Section) -> V)? = nil,
                         check: ConfigChecks<Section>? = nil,
                         reading: @escaping @Sendable (SectionReader, String, YAMLNode, Section) -> V?,
                         writing: @escaping @Sendable (V) -> String?) -> ConfigKey {
        makeValue(name, field, when: applies, default: fallback, check: check, reading: reading, writing: writing)
    }

    private static func makeValue<V>(_ name: String, _ field: ConfigField<Section, V>,
                                     when applies: @escaping @Sendable (Section) -> Bool,
                                     default fallback: (@Sendable (Section) -> V)?,
                                     check: ConfigChecks<Section>?,
                                     reading: @escaping @Sendable (SectionReader, String, YAMLNode, Section) -> V?,
                                     writing: @escaping @Sendable (V) -> String?) -> ConfigKey {
        ConfigKey(name: name, schema: .value, applies: applies,
                  read: { section, r in
                      let absent = fallback?(section) ?? section[keyPath: field]
                      section[keyPath: field] = r.node(name).flatMap { reading(r, name, $0, section) } ?? absent
                      for (holds, requirement) in check?(section) ?? [] { r.check(name, holds, requirement) }
                  },
                  write: { section, w in
                      if let text = writing(section[keyPath: field]) { w.field(name, text) }
                  },
                  appliesBelow: { _, _ in true })
    }

    /// A value of a `ConfigValue` type (numbers, strings, lists, optionals).
    static func value<V: ConfigValue>(_ name: String, _ field: ConfigField<Section, V>,
                                      when applies: @escaping @Sendable (Section) -> Bool = { _ in true },
                                      default fallback: (@Sendable (Section) -> V)? = nil,
                                      check: ConfigChecks<Section>? = nil,
                                      reading: @escaping @Sendable (SectionReader, String, YAMLNode, Section) -> V? = { r, key, node, _ in V.read(r, key, node) },
                                      writing: @escaping @Sendable (V) -> String? = { $0.yamlText }) -> ConfigKey {
        makeValue(name, field, when: applies, default: fallback, check: check, reading: reading, writing: writing)
    }

    /// One of an enum's raw values (`name: unet`).
    static func value<V: ConfigChoice>(_ name: String, _ field: ConfigField<Section, V>,
                                       when applies: @escaping @Sendable (Section) -> Bool = { _ in true },
                                       default fallback: (@Sendable (Section) -> V)? = nil,
                                       check: ConfigChecks<Section>? = nil) -> ConfigKey {
        makeValue(name, field, when: applies, default: fallback, check: check,
                  reading: { r, key, node, _ in r.choice(key, node) }, writing: { $0.rawValue })
    }

    /// A value the section's `init` reads itself, because reading it needs another section
    /// (`loss.focal_alpha` is sized by `data.num_classes`); the table gives its place, when
    /// it applies and how it is written.
    static func readByInit<V: ConfigValue>(_ name: String, _ field: ConfigField<Section, V>,
                                           when applies: @escaping @Sendable (Section) -> Bool = { _ in true }) -> ConfigKey {
        ConfigKey(name: name, schema: .value, applies: applies, read: { _, _ in },
                  write: { section, w in w.field(name, section[keyPath: field].yamlText) },
                  appliesBelow: { _, _ in true })
    }

    /// A nested section. Its keys are read into the field's current value, the section's
    /// defaults, unless `reading` builds it (for checks across its keys, or for values from
    /// the sections read before it, which it is given).
    static func section<Sub: ConfigSection>(_ name: String, _ field: ConfigField<Section, Sub>,
                                            reading: (@Sendable (Section, SectionReader) -> Sub)? = nil) -> ConfigKey {
        ConfigKey(name: name, schema: Sub.schema, applies: { _ in true },
                  read: { section, r in
                      if let reading {
                          section[keyPath: field] = reading(section, r.section(name))
                      } else {
                          section[keyPath: field].readKeys(r.section(name))
                      }
                  },
                  write: { section, w in w.section(name) { section[keyPath: field].render(into: &$0) } },
                  appliesBelow: { section, path in section[keyPath: field].applies(path) })
    }

    /// A nested section that exists only where it applies (nil elsewhere), read into `defaults`.
    static func section<Sub: ConfigSection>(_ name: String, _ field: ConfigField<Section, Sub?>,
                                            when applies: @escaping @Sendable (Section) -> Bool, defaults: Sub) -> ConfigKey {
        ConfigKey(name: name, schema: Sub.schema, applies: applies,
                  read: { section, r in
                      var sub = defaults
                      sub.readKeys(r.section(name))
                      section[keyPath: field] = sub
                  },
                  write: { section, w in
                      if let sub = section[keyPath: field] { w.section(name) { sub.render(into: &$0) } }
                  },
                  appliesBelow: { section, path in section[keyPath: field]?.applies(path) ?? false })
    }

    /// A list of sections (`stages`), addressed by index in paths (`stages.1.lr`). `read`
    /// fills it, and whatever else the list decides.
    static func list<Element: ConfigSection>(_ name: String, _ field: ConfigField<Section, [Element]>,
                                             read: @escaping @Sendable (inout Section, SectionReader) -> Void) -> ConfigKey {
        ConfigKey(name: name, schema: .list(Element.schema), applies: { _ in true }, read: read,
                  write: { section, w in w.list(name, section[keyPath: field]) { $1.render(into: &$0) } },
                  appliesBelow: { section, path in
                      guard let index = path.first else { return true }
                      let items = section[keyPath: field]
                      guard let i = Int(index), items.indices.contains(i) else { return false }
                      return items[i].applies(path.dropFirst())
                  })
    }

    /// A key taken out of the YAML tree before the config is decoded (`base` by
    /// `ConfigSources`, `sweep` by `SweepSpec`); declared so the key list knows it.
    static func readBeforeDecoding(_ name: String) -> ConfigKey {
        ConfigKey(name: name, schema: .value, applies: { _ in false }, read: { _, _ in }, write: { _, _ in },
                  appliesBelow: { _, _ in false })
    }
}

/// A typed config section (`ModelConfig`, `ScheduleConfig`, ...) whose keys are declared
/// once, in `keys`, in the order `config.yaml` writes them.
protocol ConfigSection: Sendable {
    static var keys: [ConfigKey<Self>] { get }
}

extension ConfigSection {
    /// The section's keys and their shapes, for unknown-key and path errors.
    static var schema: ConfigSchema { .section(keys.map { ($0.name, $0.schema) }) }

    /// Reads every key that applies, in table order; checks that involve several keys
    /// are the section's own.
    mutating func readKeys(_ r: SectionReader) {
        for key in Self.keys where key.applies(self) { key.read(&self, r) }
    }

    /// Writes every key that applies, except those `omitting` names.
    func render(into w: inout YAMLWriter, omitting: Set<String> = []) {
        for key in Self.keys where key.applies(self) && !omitting.contains(key.name) { key.write(self, &w) }
    }

    /// Whether the setting at `path` (keys below this section) applies to this config:
    /// false for `model.base_c` of an FCN, true for a path that names the whole section.
    func applies(_ path: ArraySlice<String>) -> Bool {
        guard let name = path.first else { return true }
        guard let key = Self.keys.first(where: { $0.name == name }) else { return false }
        return key.applies(self) && key.appliesBelow(self, path.dropFirst())
    }
}
