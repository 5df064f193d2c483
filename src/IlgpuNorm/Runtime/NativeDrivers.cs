using System.Reflection;
using System.Runtime.InteropServices;

namespace IlgpuNorm.Runtime;

/// <summary>
/// Lets ILGPU find the CUDA and OpenCL drivers where only the versioned library is installed.
/// </summary>
/// <remarks>
/// ILGPU 1.5.3 imports the drivers by their unversioned names (<c>cuda</c> → <c>libcuda.so</c>,
/// <c>OpenCL</c> → <c>libOpenCL.so</c>), which on Linux usually come only with development packages; a GPU
/// machine may ship just <c>libcuda.so.1</c> / <c>libOpenCL.so.1</c>. ILGPU sets an import resolver of its own
/// only on WSL (and an assembly can have one resolver), so this one is installed everywhere else: it tries the
/// default lookup first, then the versioned names.
/// </remarks>
internal static class NativeDrivers
{
    private static readonly Lock Gate = new();
    private static bool installed;

    /// <summary>Installs the resolver once per process; safe to call many times.</summary>
    public static void EnsureResolver()
    {
        lock (Gate)
        {
            if (!installed && OperatingSystem.IsLinux() && !IsWsl())
            {
                try
                {
                    NativeLibrary.SetDllImportResolver(typeof(ILGPU.Context).Assembly, Resolve);
                }
                catch (InvalidOperationException)
                {
                    // Someone (the host application) already set one for ILGPU: leave theirs alone.
                }
            }

            installed = true;
        }
    }

    /// <summary>The versioned name to try after an unversioned driver name, or null for any other library.</summary>
    internal static string? Fallback(string libraryName) => libraryName switch
    {
        "cuda" or "libcuda.so" => "libcuda.so.1",
        "OpenCL" or "libOpenCL.so" => "libOpenCL.so.1",
        _ => null,
    };

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        Fallback(libraryName) is { } fallback && (NativeLibrary.TryLoad(libraryName, assembly, searchPath, out var handle) || NativeLibrary.TryLoad(fallback, out handle))
            ? handle
            : IntPtr.Zero;

    private static bool IsWsl()
    {
        try
        {
            return File.ReadAllText("/proc/version").Contains("microsoft", StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
