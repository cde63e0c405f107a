extension Registry {
    /// The alert policy in force for a model: its id and parsed form, or nil when the default
    /// policy applies (`AlertPolicy.default`).
    public func alertPolicy(_ m: ModelName, state: ModelState? = nil) throws -> (id: ObjectID, policy: AlertPolicy)? {
        let st = try state ?? headEntry(m).entry.state
        guard let id = st.alertPolicy else { return nil }
        let bytes = try store.get(id, limit: 16 << 20)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw MregError.corrupt("alert policy \(id) is not UTF-8") }
        do { return (id, try AlertPolicy.parse(text, source: "alert policy \(id)")) } catch let e as MregError {
            throw MregError.corrupt("stored \(e.message)")
        }
    }

    /// The newest version of a model registered with `--reference`, and its profile: what an
    /// alert policy's column rules are checked against when it is set.
    public func newestReference(_ m: ModelName, state: ModelState) throws -> (name: String, profile: Profile)? {
        var n = state.versions
        while n >= 1 {
            let record = try self.record(recordID(m, n, state: state))
            if let profile = try referenceProfile(of: record) { return (record.name, profile) }
            n -= 1
        }
        return nil
    }

    /// Replaces a model's alert policy with the one in `path`; a new `alert_policy` history entry.
    /// Column rules are checked against the newest reference profile of the model, when it has one.
    ///
    /// - Returns: the new policy id and entry, or nil when the policy is unchanged.
    public func setAlertPolicy(_ m: ModelName, from path: String) throws -> (id: ObjectID, entryID: ObjectID)? {
        let bytes = try readUserFile(path, what: "alert policy")
        guard let text = String(validating: bytes, as: UTF8.self) else { throw MregError.invalid("alert policy \(path): not UTF-8 text") }
        let source = "alert policy \(path)"
        let policy = try AlertPolicy.parse(text, source: source)
        let headState = try head(m).map { try entry($0).state } ?? ModelState()
        if let reference = try newestReference(m, state: headState) {
            try policy.validate(against: reference.profile, referenceName: reference.name, source: source)
        }
        let newID = ObjectID.of(bytes)
        if headState.alertPolicy == newID { return nil }
        let id = try store.put(bytes)
        let (entryID, _) = try append(m) { _, current in
            var state = current?.state ?? ModelState()
            let previous = state.alertPolicy
            state.alertPolicy = id
            return (.alertPolicy, ["alert_policy": .string(id.description),
                                   "previous_alert_policy": previous.map { .string($0.description) } ?? .null], state)
        }
        return (id, entryID)
    }
}
