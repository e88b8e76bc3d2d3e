using System.CommandLine;
using Flywheel.Cli;
using Flywheel.Cli.Commands;

var root = new RootCommand("Flywheel: run, serve and improve open-weight language models.");
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(TemplateCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(PerplexityCommand.Create());
root.Subcommands.Add(PullCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(SynthCommand.Create());
root.Subcommands.Add(KeysCommand.Create());
root.Subcommands.Add(DatasetCommand.Create());
return CliErrors.Run(() => root.Parse(args).Invoke());
