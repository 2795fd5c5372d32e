// Typed engine errors with stable codes; callers branch on class, never on message text.

export class EngineError extends Error {
  readonly code: string = "EngineError";
  constructor(
    message: string,
    readonly statusCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The container does not exist (any more). For a revert, "already gone" counts as recovered. */
export class ContainerNotFound extends EngineError {
  override readonly code = "ContainerNotFound";
}

/** The container exists but is not in a state the operation needs (e.g. unpause of a running one). */
export class ContainerStateConflict extends EngineError {
  override readonly code = "ContainerStateConflict";
}

/** The node's engine (or its agent) cannot be reached. */
export class NodeUnreachable extends EngineError {
  override readonly code = "NodeUnreachable";
}

/** A Swarm object update was refused because its version moved ("update out of sequence"). */
export class VersionConflict extends EngineError {
  override readonly code = "VersionConflict";
}

/** A container with that name already exists (creating a named, run-unique helper twice). */
export class ContainerNameConflict extends EngineError {
  override readonly code = "ContainerNameConflict";
}

export class ImageMissing extends EngineError {
  override readonly code = "ImageMissing";
}

export class EngineTimeout extends EngineError {
  override readonly code = "EngineTimeout";
}

/** No Swarm config with that id or name. */
export class ConfigNotFound extends EngineError {
  override readonly code = "ConfigNotFound";
}

/** A Swarm config with that name already exists. */
export class ConfigNameConflict extends EngineError {
  override readonly code = "ConfigNameConflict";
}

/** The config is referenced by a service and cannot be removed. */
export class ConfigInUse extends EngineError {
  override readonly code = "ConfigInUse";
}
