using System.Globalization;
using IlgpuNorm.Benchmarking;
using ScottPlot;

namespace IlgpuNorm.Cli.Bench;

/// <summary>
/// The <c>--plot</c> chart (ScottPlot 5, rendered by SkiaSharp without a display): GB/s per shape, the shapes ordered by
/// hidden size (then rows) along the x axis, one solid line per backend and dtype, and each backend's copy limit for the
/// same bytes as a dashed line of the same colour. The y axis turns logarithmic when the values span more than 30×.
/// </summary>
internal static class BenchPlot
{
    private const int Width = 1100;
    private const int Height = 650;

    /// <summary>
    /// Whether Skia finds any font. The Linux native assets (SkiaSharp.NativeAssets.Linux.NoDependencies) read fonts from
    /// /usr/share/fonts without fontconfig; with none there the chart is drawn without any text.
    /// </summary>
    public static bool HasFonts => SkiaSharp.SKTypeface.Default.GlyphCount > 0;

    /// <summary>Renders the chart and writes it atomically.</summary>
    /// <param name="path">The full path of the PNG.</param>
    /// <param name="results">The measurements (at least one).</param>
    public static void Write(string path, IReadOnlyList<BenchResult> results)
    {
        byte[] png = Render(results);
        IO.AtomicFile.Write(path, stream => stream.Write(png));
    }

    /// <summary>Renders the chart as PNG bytes.</summary>
    public static byte[] Render(IReadOnlyList<BenchResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var shapes = results.Select(r => r.Shape).Distinct().OrderBy(s => s.Hidden).ThenBy(s => s.Rows).ToList();
        double[] positions = [.. Enumerable.Range(0, shapes.Count).Select(i => (double)i)];
        double Position(BenchShape shape) => shapes.IndexOf(shape);

        double smallest = results.SelectMany(r => new[] { r.Gbps, r.Copy.Gbps }).Where(v => v > 0).DefaultIfEmpty(1).Min();
        double largest = results.SelectMany(r => new[] { r.Gbps, r.Copy.Gbps }).DefaultIfEmpty(1).Max();
        bool log = largest / smallest > 30;
        double Y(double gbps) => log ? Math.Log10(Math.Max(gbps, 1e-6)) : gbps;

        using var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var colorOf = new Dictionary<(string Backend, int Size), Color>();
        int series = 0;
        foreach (var group in results.GroupBy(r => (r.Backend, r.Device, r.Type)))
        {
            var points = group.OrderBy(r => Position(r.Shape)).ToList();
            var color = palette.GetColor(series++);
            var line = plot.Add.Scatter(points.Select(r => Position(r.Shape)).ToArray(), points.Select(r => Y(r.Gbps)).ToArray(), color);
            line.LegendText = $"{group.Key.Backend} {ElementTypes.ShortName(group.Key.Type)}";
            line.LineWidth = 2;
            line.MarkerSize = 8;
            colorOf.TryAdd((group.Key.Backend, ElementTypes.SizeOf(group.Key.Type)), color);
        }

        // The copy limit: one dashed line per backend and element size (f16 and bf16 move the same bytes).
        foreach (var group in results.GroupBy(r => (r.Backend, Size: ElementTypes.SizeOf(r.Type))))
        {
            var points = group.GroupBy(r => r.Shape).Select(g => g.First()).OrderBy(r => Position(r.Shape)).ToList();
            var line = plot.Add.Scatter(points.Select(r => Position(r.Shape)).ToArray(), points.Select(r => Y(r.Copy.Gbps)).ToArray(), colorOf[group.Key]);
            bool oneSize = results.Where(r => r.Backend == group.Key.Backend).Select(r => ElementTypes.SizeOf(r.Type)).Distinct().Count() == 1;
            line.LegendText = oneSize ? $"{group.Key.Backend} copy limit" : $"{group.Key.Backend} copy limit ({group.Key.Size}-byte dtypes)";
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 1.5f;
            line.MarkerSize = 4;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, [.. shapes.Select(s => s.ToString())]);
        if (log)
        {
            // Ticks at 1, 2 and 5 of each decade: decades alone leave a chart spanning 10-300 GB/s with two labels.
            var ticks = LogTicks(smallest, largest);
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                [.. ticks.Select(Math.Log10)],
                [.. ticks.Select(t => t.ToString("0.###", CultureInfo.InvariantCulture))]);
        }

        plot.Axes.SetLimitsX(-0.5, shapes.Count - 0.5);
        if (!log)
        {
            plot.Axes.SetLimitsY(0, largest * 1.08); // bandwidth from zero, so the gaps read true
        }

        plot.Title("rms_norm bandwidth (bytes = x read + w read + y written)");
        plot.XLabel("shape (rows x hidden), ordered by hidden size");
        plot.YLabel(log ? "GB/s (log scale)" : "GB/s");
        plot.ShowLegend(Edge.Right);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>1, 2 and 5 times each power of ten from just below <paramref name="min"/> to just above <paramref name="max"/>.</summary>
    internal static List<double> LogTicks(double min, double max)
    {
        var ticks = new List<double>();
        for (int exponent = (int)Math.Floor(Math.Log10(min)); exponent <= (int)Math.Ceiling(Math.Log10(max)); exponent++)
        {
            foreach (double mantissa in new[] { 1.0, 2.0, 5.0 })
            {
                double tick = mantissa * Math.Pow(10, exponent);
                if (tick >= min / 2.5 && tick <= max * 2.5)
                {
                    ticks.Add(tick);
                }
            }
        }

        return ticks;
    }
}
