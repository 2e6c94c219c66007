#include "wmla/user_commands.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cli/command_support.h"
#include "cli/table.h"

namespace stoke::wmla {

using cli::ClientEnvironment;
using nlohmann::json;
namespace ci = cli::internal;

namespace {

using EnvPtr = std::shared_ptr<const ClientEnvironment>;

struct UserFlags {
  ci::ConnectionFlags connection;
  std::string name;
  bool admin = false;
  bool password_stdin = false;
};

std::string ReadLine(std::istream& in) {
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Reads a line from the terminal with echo off.
std::string ReadHidden(const ClientEnvironment& e, const std::string& prompt) {
  *e.err << prompt << std::flush;
  termios old{};
  bool restore = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line = ReadLine(std::cin);
  if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  *e.err << "\n";
  return line;
}

std::string ReadPassword(const ClientEnvironment& e, const UserFlags& f, std::istream* input) {
  if (f.password_stdin || input != nullptr || !::isatty(STDIN_FILENO)) return ReadLine(input ? *input : std::cin);
  std::string first = ReadHidden(e, "Password for " + f.name + ": ");
  std::string again = ReadHidden(e, "Again: ");
  if (first != again) ci::Fail(e, Status::InvalidArgument("the two passwords differ", "password"), cli::kExitUsage);
  return first;
}

void AddCreate(CLI::App& group, EnvPtr env, std::istream* input) {
  auto f = std::make_shared<UserFlags>();
  CLI::App* cmd = group.add_subcommand("create", "Create a user who logs on with a password (WMLA logon)");
  cmd->add_option("name", f->name, "user name")->required();
  cmd->add_flag("--admin", f->admin, "the user is an admin");
  cmd->add_flag("--password-stdin", f->password_stdin, "read the password from the first line of stdin");
  ci::AddConnectionFlags(*cmd, f->connection);
  cmd->callback([f, env, input] {
    const ClientEnvironment& e = *env;
    cli::ApiClient client = ci::Connect(e, f->connection);
    std::string password = ReadPassword(e, *f, input);
    json out = ci::Unwrap(e, client.Post("/users", json{{"user", f->name}, {"password", password}, {"admin", f->admin}}));
    if (f->connection.json) return ci::PrintJson(e, out);
    *e.out << "created user " << ci::Str(out, "user") << (f->admin ? " (admin)" : "") << "\n";
  });
}

void AddPasswd(CLI::App& group, EnvPtr env, std::istream* input) {
  auto f = std::make_shared<UserFlags>();
  CLI::App* cmd = group.add_subcommand("passwd", "Set a user's password (admins: anyone; users: themselves)");
  cmd->add_option("name", f->name, "user name")->required();
  cmd->add_flag("--password-stdin", f->password_stdin, "read the password from the first line of stdin");
  ci::AddConnectionFlags(*cmd, f->connection, false);
  cmd->callback([f, env, input] {
    const ClientEnvironment& e = *env;
    cli::ApiClient client = ci::Connect(e, f->connection);
    std::string password = ReadPassword(e, *f, input);
    ci::Unwrap(e, client.Post("/users/" + cli::EncodeQueryComponent(f->name) + "/password", json{{"password", password}}));
    *e.out << "password of " << f->name << " changed\n";
  });
}

void AddList(CLI::App& group, EnvPtr env) {
  auto f = std::make_shared<UserFlags>();
  CLI::App* cmd = group.add_subcommand("ls", "List password users (admin)");
  ci::AddConnectionFlags(*cmd, f->connection);
  cmd->callback([f, env] {
    const ClientEnvironment& e = *env;
    cli::ApiClient client = ci::Connect(e, f->connection);
    json out = ci::Unwrap(e, client.Get("/users"));
    if (f->connection.json) return ci::PrintJson(e, out);
    std::vector<std::vector<std::string>> rows;
    for (const json& u : out.value("users", json::array())) {
      rows.push_back({ci::Str(u, "user"), u.value("admin", false) ? "yes" : "no", ci::Age(e, u, "created_at")});
    }
    *e.out << cli::RenderTable({"USER", "ADMIN", "CREATED"}, rows);
  });
}

}  // namespace

void RegisterUserCommands(CLI::App& app) {
  RegisterUserCommands(app, std::make_shared<const ClientEnvironment>(ClientEnvironment::FromProcess()));
}

void RegisterUserCommands(CLI::App& app, std::shared_ptr<const ClientEnvironment> env, std::istream* password_input) {
  CLI::App* group = app.add_subcommand("user", "Password users (for WMLA clients' logon)");
  group->require_subcommand(1);
  AddCreate(*group, env, password_input);
  AddPasswd(*group, env, password_input);
  AddList(*group, env);
}

}  // namespace stoke::wmla
