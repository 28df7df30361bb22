// gantry tasks start|exec|attach: the task verbs that own a process's stdio (task_io.hpp), with
// ctr's flags and behaviour. register_tasks() adds them to the "tasks" group.
#pragma once

#include "cmd/gantry/commands.hpp"

namespace gantry::cli {

void register_task_processes(CLI::App& tasks_group, Globals& g);

} // namespace gantry::cli
