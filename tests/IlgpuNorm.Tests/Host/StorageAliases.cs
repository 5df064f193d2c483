// The library's aliases (src/IlgpuNorm/Host/StorageAliases.cs), for the host tests.
global using Float32Storage = IlgpuNorm.Host.ComputeStorage<float, IlgpuNorm.Host.FloatSquares>;
global using Float64Storage = IlgpuNorm.Host.ComputeStorage<double, IlgpuNorm.Host.DoubleSquares>;
