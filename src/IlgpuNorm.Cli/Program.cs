return IlgpuNorm.Cli.CliApp.Run(args, Console.Out, Console.Error);
