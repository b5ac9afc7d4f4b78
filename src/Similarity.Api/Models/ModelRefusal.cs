namespace Similarity.Models;

/// <summary>Why a model-set operation was refused; <see cref="ModelsApi"/> turns each into a status and a title.</summary>
public enum ModelRefusal
{
    /// <summary>No set has the name (or none that is not retired).</summary>
    NoSuchSet,
    NameTaken,
    /// <summary>The bundle's files are a set already deployed.</summary>
    SameSet,
    /// <summary>Another set holds the standby columns.</summary>
    StandbySlotTaken,
    /// <summary>The operation does not apply to the live set.</summary>
    IsLive,
    Retired,
    /// <summary>The set is recorded but its sessions are not loaded (its files are missing or changed).</summary>
    NotLoaded,
    NotReady,
    /// <summary>The switch could not take its table locks in time.</summary>
    CatalogBusy,
    ImportInProgress,
    /// <summary>Items changed since the standby set embedded them.</summary>
    ItemsChanged,
}

/// <summary>A model-set operation refused before it changed anything: the reason, and a detail in words for the client.</summary>
public sealed class ModelSetRefusedException(ModelRefusal reason, string detail) : Exception(detail)
{
    public ModelRefusal Reason => reason;
}
