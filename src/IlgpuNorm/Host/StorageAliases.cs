// The two compute storages by their dtype names.
global using Float32Storage = IlgpuNorm.Host.ComputeStorage<float, IlgpuNorm.Host.FloatSquares>;
global using Float64Storage = IlgpuNorm.Host.ComputeStorage<double, IlgpuNorm.Host.DoubleSquares>;
