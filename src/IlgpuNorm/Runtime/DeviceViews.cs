using ILGPU;
using ILGPU.Runtime;

namespace IlgpuNorm.Runtime;

/// <summary>The view checks the device-resident APIs share, and the view properties ILGPU keeps behind interfaces (read without boxing).</summary>
internal static class DeviceViews
{
    /// <summary>Throws unless a non-empty view lives on <paramref name="accelerator"/>.</summary>
    public static void RequireOn<T>(Accelerator accelerator, ArrayView<T> view, string paramName)
        where T : unmanaged
    {
        if (view.Length == 0)
        {
            return; // an empty view (default) has no accelerator
        }

        var owner = view.GetAccelerator();
        if (owner is not null && !ReferenceEquals(owner, accelerator))
        {
            throw new ArgumentException($"Expected a view on accelerator '{accelerator.Name}'; got one on '{owner.Name}'.", paramName);
        }
    }

    /// <summary>The buffer a view lies in (null for none); a constrained call, so the view is not boxed.</summary>
    public static MemoryBuffer? BufferOf<TView>(TView view)
        where TView : struct, IArrayView => view.Buffer;

    /// <summary>The view's start in its buffer, in bytes; a constrained call, so the view is not boxed.</summary>
    public static long IndexInBytes<TView>(TView view)
        where TView : struct, IContiguousArrayView => view.IndexInBytes;
}
