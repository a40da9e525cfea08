"""Language registry: languages.toml, the definition queries, and what they capture."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import pytest
import tree_sitter

from lapce_ai.parsing.languages import (
    Definition,
    LanguageSpec,
    _extension_files,
    _flag,
    _pattern,
    all_languages,
    definitions,
    has_grammar,
    language_by_name,
    language_for_path,
    new_parser,
)

CST_LANGUAGES = (
    "python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp",
    "ruby", "php", "kotlin", "swift", "scala", "lua", "bash", "elixir", "haskell", "zig",
    "dart", "ocaml", "ocaml_interface", "erlang", "julia", "r",
    "perl", "objc", "clojure", "groovy", "fsharp",
)  # fmt: skip


def _spec(name: str) -> LanguageSpec:
    spec = language_by_name(name)
    assert spec is not None, name
    return spec


def _defs(name: str, source: str) -> list[Definition]:
    spec = _spec(name)
    tree = new_parser(spec).parse(source.encode("utf-8"))
    return definitions(spec, tree.root_node)


# language -> (a path of that language, source, the exact (kind, name) definitions in order)
CASES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "python": (
        "models.py",
        '''\
import functools

MAX = 3


def plain(a, b):
    return a + b


@functools.cache
def cached(x):
    return x * 2


class Greeter(Base):
    """Says hello."""

    def __init__(self, name):
        self.name = name

    @property
    def upper(self):
        return self.name.upper()

    @staticmethod
    async def fetch():
        def inner():
            pass
        return inner


@dataclass
class Point:
    x: int
    y: int


async def main():
    pass
type Vec = list[float]
''',
        [
            ("function", "plain"),
            ("function", "cached"),
            ("class", "Greeter"),
            ("function", "__init__"),
            ("function", "upper"),
            ("function", "fetch"),
            ("function", "inner"),
            ("class", "Point"),
            ("function", "main"),
            ("type", "Vec"),
        ],
    ),
    "javascript": (
        "store.js",
        """\
export function parse(text) {
  return text.split("\\n");
}

export default async function* stream() {
  yield 1;
}

const add = (a, b) => a + b;

let handler = function (event) {
  console.log(event);
};

var legacy = function named() {};

const Button = forwardRef((props, ref) => render(props, ref));

function total(items) {
  const sum = items.reduce((a, b) => a + b, 0);
  return sum;
}

class Store extends Base {
  #items = [];

  constructor(items) {
    super();
    this.#items = items;
  }

  get size() {
    return this.#items.length;
  }

  static create() {
    return new Store([]);
  }

  onClick = () => {
    this.reset();
  };
}

module.exports.helper = function () {};
obj.method = () => 1;
const Widget = class {
  render() {}
};
""",
        [
            ("function", "parse"),
            ("function", "stream"),
            ("function", "add"),
            ("function", "handler"),
            ("function", "legacy"),
            ("function", "Button"),
            ("function", "total"),
            ("class", "Store"),
            ("method", "constructor"),
            ("method", "size"),
            ("method", "create"),
            ("method", "onClick"),
            ("function", "helper"),
            ("function", "method"),
            ("class", "Widget"),
            ("method", "render"),
        ],
    ),
    "typescript": (
        "user.service.ts",
        """\
export interface User {
  id: number;
  name: string;
}

type Id = string | number;

export type Handler<T> = (event: T) => void;

export enum Color {
  Red,
  Green,
}

declare module "express" {
  interface Request {
    user?: User;
  }
}

namespace Utils {
  export function clamp(x: number): number {
    return Math.max(0, x);
  }
}

@Injectable()
export class UserService implements Service {
  private cache = new Map<number, User>();

  constructor(private readonly http: Http) {}

  async find(id: number): Promise<User> {
    return this.cache.get(id)!;
  }

  abstract save(user: User): void;
}

export abstract class Repo<T> {
  abstract all(): T[];
}

export const toId = (u: User): Id => u.id;

function overload(x: string): string;
function overload(x: any) {
  return x;
}
""",
        [
            ("interface", "User"),
            ("type", "Id"),
            ("type", "Handler"),
            ("enum", "Color"),
            ("module", "express"),
            ("interface", "Request"),
            ("namespace", "Utils"),
            ("function", "clamp"),
            ("class", "UserService"),
            ("method", "constructor"),
            ("method", "find"),
            ("class", "Repo"),
            ("function", "toId"),
            ("function", "overload"),
        ],
    ),
    "tsx": (
        "App.tsx",
        """\
import React, { useState } from "react";

interface ButtonProps {
  label: string;
  onClick?: () => void;
}

export function Button({ label, onClick }: ButtonProps) {
  return <button onClick={onClick}>{label}</button>;
}

export const Counter: React.FC = () => {
  const [count, setCount] = useState(0);
  const increment = () => setCount(count + 1);
  return <div onClick={increment}>{count}</div>;
};

export default class App extends React.Component<{}, { ready: boolean }> {
  state = { ready: false };

  handleLoad = () => {
    this.setState({ ready: true });
  };

  render() {
    return <Button label="go" onClick={this.handleLoad} />;
  }
}

type Theme = "light" | "dark";
""",
        [
            ("interface", "ButtonProps"),
            ("function", "Button"),
            ("function", "Counter"),
            ("function", "increment"),
            ("class", "App"),
            ("method", "handleLoad"),
            ("method", "render"),
            ("type", "Theme"),
        ],
    ),
    "go": (
        "server.go",
        """\
package server

import "net/http"

const (
	DefaultPort = 8080
)

type Handler func(w http.ResponseWriter, r *http.Request)

type Server struct {
	addr string
	mux  *http.ServeMux
}

type Store interface {
	Get(key string) (string, error)
}

type ID = string

func New(addr string) *Server {
	return &Server{addr: addr}
}

func (s *Server) Start() error {
	return http.ListenAndServe(s.addr, s.mux)
}

func Map[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	return out
}

type (
	A struct{}
	B int
)
""",
        [
            ("type", "Handler"),
            ("struct", "Server"),
            ("interface", "Store"),
            ("type", "ID"),
            ("function", "New"),
            ("method", "Start"),
            ("function", "Map"),
            ("struct", "A"),
            ("type", "B"),
        ],
    ),
    "rust": (
        "point.rs",
        """\
use std::fmt;

pub const MAX: usize = 16;

/// A point.
#[derive(Debug, Clone)]
pub struct Point {
    x: i32,
    y: i32,
}

pub enum Shape {
    Circle(f64),
    Square(f64),
}

pub trait Area {
    fn area(&self) -> f64;
}

impl Point {
    pub fn new(x: i32, y: i32) -> Self {
        Self { x, y }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "({}, {})", self.x, self.y)
    }
}

impl<T: Clone> Area for Wrapper<T> {
    fn area(&self) -> f64 { 0.0 }
}

mod tests {
    #[test]
    fn works() {}
}

macro_rules! square {
    ($x:expr) => { $x * $x };
}

type Result<T> = std::result::Result<T, Error>;

union Bits { i: u32, f: f32 }
""",
        [
            ("struct", "Point"),
            ("enum", "Shape"),
            ("trait", "Area"),
            ("impl", "Point"),
            ("function", "new"),
            ("impl", "Point"),
            ("function", "fmt"),
            ("impl", "Wrapper"),
            ("function", "area"),
            ("module", "tests"),
            ("function", "works"),
            ("macro", "square"),
            ("type", "Result"),
            ("struct", "Bits"),
        ],
    ),
    "java": (
        "OrderService.java",
        """\
package com.example.store;

import java.util.List;

@Service
public class OrderService extends Base implements Handler {
    private static final int LIMIT = 10;

    public OrderService(Repo repo) {
        this.repo = repo;
    }

    @Override
    public List<Order> findAll() {
        return repo.all();
    }

    static class Cache {
        void clear() {}
    }
}

interface Handler {
    void handle(Event e);

    default boolean enabled() {
        return true;
    }
}

enum Status {
    OPEN, CLOSED;

    boolean terminal() { return this == CLOSED; }
}

record Pair(String left, String right) {}

@interface Audit {
    String value();
}
""",
        [
            ("class", "OrderService"),
            ("method", "OrderService"),
            ("method", "findAll"),
            ("class", "Cache"),
            ("method", "clear"),
            ("interface", "Handler"),
            ("method", "enabled"),
            ("enum", "Status"),
            ("method", "terminal"),
            ("class", "Pair"),
            ("interface", "Audit"),
        ],
    ),
    "c": (
        "list.c",
        """\
#include <stdio.h>

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define LIMIT 10

struct point {
    int x;
    int y;
};

typedef struct node {
    struct node *next;
} node_t;

typedef struct {
    int len;
} buffer;

enum color { RED, GREEN };

static int counter = 0;

int add(int a, int b) {
    return a + b;
}

static char **split_lines(const char *text, size_t *count) {
    return NULL;
}

void (*get_handler(int sig))(int) {
    return NULL;
}

int main(void);
""",
        [
            ("macro", "MAX"),
            ("struct", "point"),
            ("struct", "node"),
            ("struct", "buffer"),
            ("enum", "color"),
            ("function", "add"),
            ("function", "split_lines"),
            ("function", "get_handler"),
        ],
    ),
    "cpp": (
        "shape.cpp",
        """\
namespace geo {

template <typename T>
class Shape : public Base {
public:
    Shape() = default;
    virtual ~Shape();
    double area() const override { return 0.0; }
    static Shape* make();

private:
    T data_;
};

struct Point {
    int x, y;
    bool operator==(const Point& other) const {
        return x == other.x && y == other.y;
    }
};

Shape<int>* Shape<int>::make() {
    return nullptr;
}

const std::string& name_of(const Point& p) {
    static std::string s;
    return s;
}

}  // namespace geo

enum class Mode { Fast, Safe };

using Callback = std::function<void(int)>;

template <typename T>
T max_of(T a, T b) {
    return a > b ? a : b;
}

int main(int argc, char** argv) {
    return 0;
}
""",
        [
            ("namespace", "geo"),
            ("class", "Shape"),
            ("function", "Shape"),
            ("function", "area"),
            ("struct", "Point"),
            ("function", "operator=="),
            ("function", "Shape<int>::make"),
            ("function", "name_of"),
            ("enum", "Mode"),
            ("function", "max_of"),
            ("function", "main"),
        ],
    ),
    "csharp": (
        "Orders.cs",
        """\
namespace Shop.Orders
{
    public interface IRepository<T>
    {
        T Find(int id);
    }

    [Serializable]
    public class OrderService : IService
    {
        private readonly IRepository<Order> _repo;

        public OrderService(IRepository<Order> repo)
        {
            _repo = repo;
        }

        public Order Get(int id) => _repo.Find(id);

        public int Count { get; private set; }
    }

    public struct Money
    {
        public decimal Amount;
    }

    public enum Status { Open, Closed }

    public record Line(string Sku, int Qty);

    public delegate void Notify(string msg);
}

namespace Shop.Util;

static class Ext
{
    public static string Trim2(this string s) { return s.Trim(); }
}
""",
        [
            ("namespace", "Shop.Orders"),
            ("interface", "IRepository"),
            ("class", "OrderService"),
            ("method", "OrderService"),
            ("method", "Get"),
            ("struct", "Money"),
            ("enum", "Status"),
            ("class", "Line"),
            ("class", "Ext"),
            ("method", "Trim2"),
        ],
    ),
    "ruby": (
        "invoice.rb",
        """\
require "json"

module Billing
  class Invoice < Base
    attr_reader :total

    def initialize(total)
      @total = total
    end

    def self.parse(json)
      new(JSON.parse(json)["total"])
    end

    def paid?
      !@paid_at.nil?
    end

    class << self
      def registry
        @registry ||= {}
      end
    end
  end
end

class Billing::Receipt
  def to_s = "receipt"
end

def helper(x)
  x * 2
end
""",
        [
            ("module", "Billing"),
            ("class", "Invoice"),
            ("method", "initialize"),
            ("method", "parse"),
            ("method", "paid?"),
            ("method", "registry"),
            ("class", "Billing::Receipt"),
            ("method", "to_s"),
            ("method", "helper"),
        ],
    ),
    "php": (
        "UserController.php",
        """\
<?php

namespace App\\Http;

use App\\Models\\User;

interface Renderable
{
    public function render(): string;
}

trait Loggable
{
    protected function log(string $msg): void
    {
        error_log($msg);
    }
}

#[Attribute]
final class UserController extends Controller implements Renderable
{
    use Loggable;

    public const LIMIT = 10;

    public function __construct(private User $user) {}

    public function render(): string
    {
        return "user";
    }

    abstract protected function save();
}

enum Suit: string
{
    case Hearts = 'H';
}

function helper(array $items): int
{
    return count($items);
}
""",
        [
            ("interface", "Renderable"),
            ("trait", "Loggable"),
            ("method", "log"),
            ("class", "UserController"),
            ("method", "__construct"),
            ("method", "render"),
            ("enum", "Suit"),
            ("function", "helper"),
        ],
    ),
    "kotlin": (
        "UserRepository.kt",
        """\
package com.example.app

import kotlinx.coroutines.flow.Flow

data class User(val id: Long, val name: String)

interface Repository<T> {
    fun find(id: Long): T?
}

@Singleton
class UserRepository(private val db: Database) : Repository<User> {
    private val cache = mutableMapOf<Long, User>()

    override fun find(id: Long): User? {
        return cache[id] ?: db.load(id)
    }

    companion object {
        fun create(): UserRepository = UserRepository(Database())
    }
}

object Registry {
    val items = mutableListOf<String>()
}

enum class Level { LOW, HIGH }

sealed interface Event

typealias Handler = (Event) -> Unit

fun String.shout(): String = uppercase() + "!"

suspend fun main() {
    println("hi")
}
""",
        [
            ("class", "User"),
            ("interface", "Repository"),
            ("class", "UserRepository"),
            ("function", "find"),
            ("function", "create"),
            ("class", "Registry"),
            ("enum", "Level"),
            ("interface", "Event"),
            ("type", "Handler"),
            ("function", "shout"),
            ("function", "main"),
        ],
    ),
    "swift": (
        "Canvas.swift",
        """\
import Foundation

protocol Shape {
    func area() -> Double
}

struct Circle: Shape {
    let radius: Double

    func area() -> Double {
        return .pi * radius * radius
    }
}

final class Canvas {
    private var shapes: [Shape] = []

    init(shapes: [Shape]) {
        self.shapes = shapes
    }

    func draw() {
        shapes.forEach { print($0.area()) }
    }
}

enum Direction {
    case north, south
}

extension Canvas: CustomStringConvertible {
    var description: String { "Canvas" }
}

actor Counter {
    var value = 0
}

typealias Callback = (Int) -> Void

func makeCanvas() -> Canvas {
    Canvas(shapes: [])
}
""",
        [
            ("interface", "Shape"),
            ("struct", "Circle"),
            ("function", "area"),
            ("class", "Canvas"),
            ("method", "init"),
            ("function", "draw"),
            ("enum", "Direction"),
            ("impl", "Canvas"),
            ("class", "Counter"),
            ("type", "Callback"),
            ("function", "makeCanvas"),
        ],
    ),
    "scala": (
        "UserService.scala",
        """\
package com.example

import scala.concurrent.Future

trait Repository[T] {
  def find(id: Long): Option[T]
}

case class User(id: Long, name: String)

class UserService(repo: Repository[User]) extends Service {
  private val cache = Map.empty[Long, User]

  def lookup(id: Long): Option[User] =
    cache.get(id).orElse(repo.find(id))

  override def toString: String = "UserService"
}

object UserService {
  def apply(repo: Repository[User]): UserService = new UserService(repo)
}

sealed trait Shape
enum Color {
  case Red, Green
}

type Id = Long

def topLevel(x: Int): Int = {
  x + 1
}
""",
        [
            ("trait", "Repository"),
            ("class", "User"),
            ("class", "UserService"),
            ("function", "lookup"),
            ("function", "toString"),
            ("class", "UserService"),
            ("function", "apply"),
            ("trait", "Shape"),
            ("enum", "Color"),
            ("type", "Id"),
            ("function", "topLevel"),
        ],
    ),
    "lua": (
        "module.lua",
        """\
local json = require("json")

local M = {}

local function clamp(x, lo, hi)
  return math.max(lo, math.min(hi, x))
end

function M.new(opts)
  local self = setmetatable({}, M)
  self.opts = opts
  return self
end

function M:render(buf)
  return json.encode(buf)
end

function global_helper()
  print("hi")
end

M.reset = function(self)
  self.opts = {}
end

local handler = function(ev) return ev end

return M
""",
        [
            ("function", "clamp"),
            ("function", "M.new"),
            ("function", "M:render"),
            ("function", "global_helper"),
            ("function", "M.reset"),
            ("function", "handler"),
        ],
    ),
    "bash": (
        "build.sh",
        """\
#!/usr/bin/env bash
set -euo pipefail

readonly LOG_DIR="/var/log/app"

log() {
  echo "[$(date +%T)] $*" >&2
}

function cleanup {
  rm -rf "$TMP"
}

function build() {
  local target="$1"
  make -C "$target"
}

trap cleanup EXIT
build "$@"
""",
        [
            ("function", "log"),
            ("function", "cleanup"),
            ("function", "build"),
        ],
    ),
    "elixir": (
        "accounts.ex",
        """\
defmodule MyApp.Accounts do
  @moduledoc "Accounts context."

  alias MyApp.Repo

  defstruct [:id, :name]

  @doc "Fetches a user."
  def get_user(id) do
    Repo.get(User, id)
  end

  def get_user!(id), do: Repo.get!(User, id)

  defp normalize(%{name: name} = attrs) when is_binary(name) do
    %{attrs | name: String.trim(name)}
  end

  defmacro with_user(id, do: block) do
    quote do
      unquote(block)
    end
  end

  defguard is_admin(user) when user.role == :admin

  defmodule Inner do
    def ping, do: :pong
  end
end

defprotocol MyApp.Printable do
  def print(data)
end

defimpl MyApp.Printable, for: Map do
  def print(map), do: inspect(map)
end
""",
        [
            ("module", "MyApp.Accounts"),
            ("function", "get_user"),
            ("function", "get_user!"),
            ("function", "normalize"),
            ("macro", "with_user"),
            ("macro", "is_admin"),
            ("module", "Inner"),
            ("function", "ping"),
            ("interface", "MyApp.Printable"),
            ("function", "print"),
            ("impl", "Map"),
            ("function", "print"),
        ],
    ),
    "haskell": (
        "Shape.hs",
        """\
{-# LANGUAGE OverloadedStrings #-}
module Data.Shape
  ( Shape (..)
  , area
  ) where

import qualified Data.Map as Map

data Shape
  = Circle Double
  | Rect Double Double
  deriving (Show, Eq)

newtype Name = Name String

type Table = Map.Map String Shape

class Describable a where
  describe :: a -> String
  describe _ = "thing"

instance Describable Shape where
  describe (Circle _) = "circle"
  describe _ = "rect"

-- | Area of a shape.
area :: Shape -> Double
area (Circle r) = pi * r * r
area (Rect w h) = w * h

scale :: Double -> Shape -> Shape
scale k s = case s of
  Circle r -> Circle (k * r)
  Rect w h -> Rect (k * w) (k * h)

main :: IO ()
main = print (area (Circle 1))
""",
        [
            ("type", "Shape"),
            ("type", "Name"),
            ("type", "Table"),
            ("class", "Describable"),
            ("function", "describe"),
            ("impl", "Shape"),
            ("function", "describe"),
            ("function", "describe"),
            ("function", "area"),
            ("function", "area"),
            ("function", "scale"),
            ("function", "main"),
        ],
    ),
    "zig": (
        "point.zig",
        """\
const std = @import("std");

pub const max_items = 64;

pub const Point = struct {
    x: i32,
    y: i32,

    pub fn add(self: Point, other: Point) Point {
        return .{ .x = self.x + other.x, .y = self.y + other.y };
    }
};

const Color = enum { red, green };

const Value = union(enum) {
    int: i64,
    float: f64,
};

fn helper(n: u32) u32 {
    return n * 2;
}

pub fn main() !void {
    std.debug.print("{}\\n", .{helper(2)});
}

test "helper doubles" {
    try std.testing.expect(helper(2) == 4);
}
""",
        [
            ("struct", "Point"),
            ("function", "add"),
            ("enum", "Color"),
            ("struct", "Value"),
            ("function", "helper"),
            ("function", "main"),
            ("function", '"helper doubles"'),
        ],
    ),
    "dart": (
        "cart.dart",
        """\
import 'package:flutter/widgets.dart';

/// A line in the cart.
class CartItem {
  final String sku;
  final int qty;

  const CartItem(this.sku, this.qty);

  CartItem.single(this.sku) : qty = 1 {
    assert(sku.isNotEmpty);
  }

  factory CartItem.fromJson(Map<String, dynamic> json) =>
      CartItem(json['sku'] as String, json['qty'] as int);

  int get total => qty * 2;

  @override
  bool operator ==(Object other) => other is CartItem && other.sku == sku;
}

mixin Discountable {
  double discount(double price) => price * 0.9;
}

extension CartTotal on List<CartItem> {
  int get count => fold(0, (sum, item) => sum + item.qty);
}

enum Status { open, paid }

typedef Listener = void Function(CartItem item);

abstract interface class Store {
  Future<void> save(CartItem item);
}

Future<void> checkout(List<CartItem> items) async {
  void log(String msg) => print(msg);
  log('checking out ${items.count}');
}
""",
        [
            ("class", "CartItem"),
            ("method", "single"),
            ("method", "fromJson"),
            ("method", "total"),
            ("method", "=="),
            ("trait", "Discountable"),
            ("method", "discount"),
            ("impl", "CartTotal"),
            ("method", "count"),
            ("enum", "Status"),
            ("type", "Listener"),
            ("class", "Store"),
            ("function", "checkout"),
            ("function", "log"),
        ],
    ),
    "ocaml": (
        "lru.ml",
        """\
(** A least-recently-used cache. *)

type 'a entry = { key : string; value : 'a; mutable stamp : int }

type stats = Hits of int | Misses of int
and report = stats list

module type CACHE = sig
  type 'a t
  val find : 'a t -> string -> 'a option
end

module Lru : CACHE = struct
  type 'a t = { mutable clock : int; table : (string, 'a entry) Hashtbl.t }

  let create () = { clock = 0; table = Hashtbl.create 16 }

  let find c key =
    let touch e = e.stamp <- c.clock; e.value in
    Option.map touch (Hashtbl.find_opt c.table key)
end

let rec size = function [] -> 0 | _ :: tl -> 1 + size tl
and total xs = List.fold_left ( + ) 0 xs

let ( |? ) opt default = Option.value opt ~default

let version = "1.0"

class logger prefix = object
  method log msg = print_endline (prefix ^ msg)
end
""",
        [
            ("type", "entry"),
            ("type", "stats"),
            ("type", "report"),
            ("interface", "CACHE"),
            ("module", "Lru"),
            ("type", "t"),
            ("function", "create"),
            ("function", "find"),
            ("function", "touch"),
            ("function", "size"),
            ("function", "total"),
            ("function", "( |? )"),
            ("class", "logger"),
            ("method", "log"),
        ],
    ),
    "ocaml_interface": (
        "lru.mli",
        """\
(** LRU cache interface. *)

type 'a t
(** A cache holding values of type ['a]. *)

type stats = { hits : int; misses : int }

val create : int -> 'a t
(** [create n] holds at most [n] entries. *)

val find : 'a t -> string -> 'a option

module type HASHABLE = sig
  type key
  val hash : key -> int
end

module Make (H : HASHABLE) : sig
  type key = H.key
  val add : key -> unit
end

class type printer = object
  method print : stats -> unit
end

exception Full of int
""",
        [
            ("type", "stats"),
            ("interface", "HASHABLE"),
            ("module", "Make"),
            ("type", "key"),
            ("interface", "printer"),
        ],
    ),
    "erlang": (
        "cache_srv.erl",
        """\
%% @doc An ETS-backed cache server.
-module(cache_srv).
-behaviour(gen_server).

-export([start_link/0, lookup/1]).
-export([init/1, handle_call/3]).

-define(TABLE, cache_table).
-define(LOG(Fmt, Args), logger:info(Fmt, Args)).

-record(state, {table :: ets:tid(), hits = 0 :: non_neg_integer()}).

-type key() :: binary() | atom().

-spec start_link() -> {ok, pid()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

-spec lookup(key()) -> {ok, term()} | not_found.
lookup(Key) ->
    gen_server:call(?MODULE, {lookup, Key}).

init([]) ->
    {ok, #state{table = ets:new(?TABLE, [set])}}.

handle_call({lookup, Key}, _From, #state{table = T} = S) ->
    Reply = case ets:lookup(T, Key) of
        [{_, V}] -> {ok, V};
        [] -> not_found
    end,
    {reply, Reply, S#state{hits = S#state.hits + 1}};
handle_call(_Req, _From, S) ->
    {reply, {error, unknown}, S}.
""",
        [
            ("macro", "TABLE"),
            ("macro", "LOG"),
            ("struct", "state"),
            ("type", "key"),
            ("function", "start_link"),
            ("function", "lookup"),
            ("function", "init"),
            ("function", "handle_call"),
            ("function", "handle_call"),
        ],
    ),
    "julia": (
        "shapes.jl",
        '''\
"""
    Shapes

Geometric shapes and their areas.
"""
module Shapes

export Shape, Circle, area

abstract type Shape end

"A circle of radius `r`."
struct Circle <: Shape
    r::Float64
end

mutable struct Canvas{T<:Shape}
    items::Vector{T}
    Canvas{T}() where {T} = new(T[])
end

area(c::Circle) = pi * c.r^2

function Base.show(io::IO, c::Circle)
    print(io, "Circle(", c.r, ")")
end

function total_area(cv::Canvas)::Float64
    sq(x) = x^2
    sum(area, cv.items; init = 0.0)
end

macro check(ex)
    :($(esc(ex)) || error("check failed"))
end

const scale = s -> s * 2

end # module
''',
        [
            ("module", "Shapes"),
            ("type", "Shape"),
            ("struct", "Circle"),
            ("struct", "Canvas"),
            ("function", "Canvas{T}"),
            ("function", "area"),
            ("function", "Base.show"),
            ("function", "total_area"),
            ("function", "sq"),
            ("macro", "check"),
            ("function", "scale"),
        ],
    ),
    "r": (
        "account.R",
        """\
#' Bank accounts with R6 and S4.
library(R6)

#' Create an account ledger
#' @param owner who owns it
new_ledger <- function(owner) {
  entries <- list()
  add_entry = function(amount) {
    entries[[length(entries) + 1]] <<- amount
  }
  list(owner = owner, add = add_entry)
}

balance_of <<- function(ledger) sum(unlist(ledger$entries))

Account <- R6::R6Class("Account",
  public = list(
    balance = 0,
    deposit = function(x) {
      self$balance <- self$balance + x
      invisible(self)
    }
  ),
  private = list(
    audit = function() message("audit")
  )
)

setClass("Money", representation(amount = "numeric", currency = "character"))

setGeneric("convert", function(x, to) standardGeneric("convert"))

setMethod("convert", "Money", function(x, to) {
  x@currency <- to
  x
})

lapply(1:3, function(i) i * 2)
""",
        [
            ("function", "new_ledger"),
            ("function", "add_entry"),
            ("function", "balance_of"),
            ("class", "Account"),
            ("method", "deposit"),
            ("method", "audit"),
            ("class", "Money"),
            ("function", "convert"),
            ("method", "convert"),
        ],
    ),
    "perl": (
        "Inventory.pm",
        """\
package App::Inventory;
use strict;
use warnings;

=head1 NAME

App::Inventory - tracks stock levels

=cut

our $VERSION = '0.02';

# Build a new inventory.
sub new {
    my ($class, %args) = @_;
    return bless { items => {}, %args }, $class;
}

sub add_item {
    my ($self, $name, $qty) = @_;
    $name =~ s{^\\s+|\\s+$}{}g;
    $self->{items}{$name} += $qty // 1;
    return $self;
}

sub report {
    my $self = shift;
    return <<"END";
Items: @{[ scalar keys %{ $self->{items} } ]}
END
}

my $by_name = sub { $_[0] cmp $_[1] };

package App::Inventory::Item {
    sub label ($self) { return uc $self->{name} }
}

1;
""",
        [
            ("function", "new"),
            ("function", "add_item"),
            ("function", "report"),
            ("module", "App::Inventory::Item"),
            ("function", "label"),
        ],
    ),
    "objc": (
        "Logger.m",
        """\
#import <Foundation/Foundation.h>

#define CLAMP(x, lo, hi) MIN(MAX((x), (lo)), (hi))

typedef enum : NSInteger {
    LogLevelInfo,
    LogLevelError,
} LogLevel;

/// Receives log lines.
@protocol LogSink <NSObject>
- (void)write:(NSString *)line level:(LogLevel)level;
@end

@interface Logger : NSObject
@property (nonatomic, strong) id<LogSink> sink;
@end

@interface Logger ()
@property (nonatomic) NSUInteger count;
@end

static NSString *LevelName(LogLevel level) {
    return level == LogLevelError ? @"ERROR" : @"INFO";
}

@implementation Logger
- (void)log:(NSString *)message level:(LogLevel)level {
    self.count += 1;
    [self.sink write:[NSString stringWithFormat:@"[%@] %@", LevelName(level), message] level:level];
}

+ (instancetype)sharedLogger {
    static Logger *shared;
    static dispatch_once_t once;
    dispatch_once(&once, ^{ shared = [[Logger alloc] init]; });
    return shared;
}
@end

@implementation Logger (Debug)
- (void)debug:(NSString *)message { [self log:message level:LogLevelInfo]; }
@end
""",
        [
            ("macro", "CLAMP"),
            ("enum", "LogLevel"),
            ("interface", "LogSink"),
            ("class", "Logger"),
            ("impl", "Logger"),
            ("function", "LevelName"),
            ("impl", "Logger"),
            ("method", "log"),
            ("method", "sharedLogger"),
            ("impl", "Logger"),
            ("method", "debug"),
        ],
    ),
    "clojure": (
        "shapes.clj",
        """\
(ns geo.shapes
  "Shapes and their areas."
  (:require [clojure.string :as str]))

(def ^:const tau (* 2 Math/PI))

(defprotocol Shape
  (area [this] "Area of the shape.")
  (describe [this]))

(defrecord Circle [r]
  Shape
  (area [_] (* Math/PI r r))
  (describe [_] (str "circle r=" r)))

(defn ^double total-area
  "Sum of the areas."
  [shapes]
  (reduce + (map area shapes)))

(defn- normalize [s] (str/lower-case (str/trim s)))

(defmulti render :format)

(defmethod render :svg [{:keys [shape]}]
  (str "<svg>" (describe shape) "</svg>"))

(defmacro with-units [unit & body]
  `(binding [*unit* ~unit] ~@body))

(def parse-shape (fn [s] (keyword (normalize s))))
""",
        [
            ("namespace", "geo.shapes"),
            ("interface", "Shape"),
            ("class", "Circle"),
            ("method", "area"),
            ("method", "describe"),
            ("function", "total-area"),
            ("function", "normalize"),
            ("function", "render"),
            ("method", "render"),
            ("macro", "with-units"),
            ("function", "parse-shape"),
        ],
    ),
    "groovy": (
        "ReleaseNotes.groovy",
        """\
package org.example.notes

import groovy.transform.CompileStatic

/**
 * Collects release notes for a version.
 */
@CompileStatic
class ReleaseNotes implements Renderable {
    final String version
    List<String> entries = []

    ReleaseNotes(String version) {
        this.version = version
    }

    // Adds one entry, ignoring blanks.
    void add(String entry) {
        if (entry.trim()) {
            entries.add(entry.trim())
        }
    }

    String render() {
        def lines = entries.collect { "- ${it}" }
        return "## ${version}\\n" + lines.join('\\n')
    }

    void save(File target) throws IOException {
        target.text = render()
    }
}

interface Renderable {
    String render()
}

enum Channel { STABLE, BETA }

def formatAll(List<ReleaseNotes> notes) {
    def parts = notes.collect { it.render() }
    parts.join('\\n\\n')
}

def shout = { String s -> s.toUpperCase() }
""",
        [
            ("class", "ReleaseNotes"),
            ("function", "ReleaseNotes"),
            ("function", "add"),
            ("function", "render"),
            ("function", "save"),
            ("interface", "Renderable"),
            ("enum", "Channel"),
            ("function", "formatAll"),
            ("function", "shout"),
        ],
    ),
    "fsharp": (
        "Billing.fs",
        """\
namespace Shop.Billing

open System

/// A line on an invoice.
type LineItem = { Sku: string; Quantity: int; UnitPrice: decimal }

type Discount =
    | Percent of decimal
    | Fixed of amount: decimal

type IPricing =
    abstract Total: LineItem list -> decimal

type Invoice(customer: string, items: LineItem list) =
    let subtotal = items |> List.sumBy (fun i -> decimal i.Quantity * i.UnitPrice)
    member _.Customer = customer
    member this.Total(discount: Discount option) =
        match discount with
        | Some (Percent p) -> subtotal * (1m - p / 100m)
        | Some (Fixed a) -> subtotal - a
        | None -> subtotal
    static member Empty(customer) = Invoice(customer, [])
    interface IPricing with
        member this.Total _ = this.Total None

module Pricing =
    let private round2 (x: decimal) = Math.Round(x, 2)

    let applyTax rate amount = round2 (amount * (1m + rate))

    let format = fun (amount: decimal) -> sprintf "%.2f" amount

    let rec sumAll = function
        | [] -> 0m
        | x :: rest -> x + sumAll rest
""",
        [
            ("namespace", "Shop.Billing"),
            ("type", "LineItem"),
            ("type", "Discount"),
            ("interface", "IPricing"),
            ("class", "Invoice"),
            ("method", "Customer"),
            ("method", "Total"),
            ("method", "Empty"),
            ("impl", "IPricing"),
            ("method", "Total"),
            ("module", "Pricing"),
            ("function", "round2"),
            ("function", "applyTax"),
            ("function", "format"),
            ("function", "sumAll"),
        ],
    ),
}


def test_every_required_language_has_a_case() -> None:
    assert set(CASES) == set(CST_LANGUAGES)


@pytest.mark.parametrize("language", CST_LANGUAGES)
def test_definitions(language: str) -> None:
    path, source, expected = CASES[language]
    spec = language_for_path(path)
    assert spec is not None and spec.name == language
    assert has_grammar(spec)
    tree = new_parser(spec).parse(source.encode("utf-8"))
    assert not tree.root_node.has_error, "the sample should be valid code"
    assert [(d.kind, d.name) for d in definitions(spec, tree.root_node)] == expected


@pytest.mark.parametrize("language", CST_LANGUAGES)
def test_definitions_are_sorted_nested_and_unique(language: str) -> None:
    _, source, _ = CASES[language]
    defs = _defs(language, source)
    keys = [(d.node.start_byte, -d.node.end_byte) for d in defs]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys), "two definitions share a node range"
    # Definitions nest or are disjoint: the chunker builds a containment forest from them.
    for a, b in itertools.pairwise(defs):
        assert b.node.start_byte >= a.node.end_byte or b.node.end_byte <= a.node.end_byte
    kinds = {"function", "method", "class", "struct", "enum", "interface", "trait", "impl"}
    kinds |= {"module", "namespace", "type", "macro", "constant"}
    assert {d.kind for d in defs} <= kinds
    assert all(d.name and d.name == " ".join(d.name.split()) for d in defs)


def test_decorated_python_definitions_include_the_decorators_once() -> None:
    source = CASES["python"][1]
    defs = {d.name: d for d in _defs("python", source)}
    assert len(defs) == len(_defs("python", source)), "a definition was captured twice"
    for name in ("cached", "upper", "fetch", "Point"):
        assert defs[name].node.type == "decorated_definition"
        assert (defs[name].node.text or b"").startswith(b"@")
    assert defs["plain"].node.type == "function_definition"


def test_exported_js_declarations_include_export_keyword() -> None:
    defs = {d.name: d for d in _defs("typescript", CASES["typescript"][1])}
    assert (defs["UserService"].node.text or b"").startswith(b"@Injectable()\nexport class")
    assert (defs["toId"].node.text or b"").startswith(b"export const toId")
    assert (defs["Id"].node.text or b"").startswith(b"type Id")


def test_names_collapse_whitespace_and_tolerate_bad_utf8() -> None:
    defs = _defs("haskell", 'instance Show (Tree\n    a, b) where\n  show _ = "tree"\n')
    assert [(d.kind, d.name) for d in defs] == [("impl", "(Tree a, b)"), ("function", "show")]
    spec = _spec("zig")
    tree = new_parser(spec).parse(b'test "caf\xe9  x" {}\n')
    assert [d.name for d in definitions(spec, tree.root_node)] == ['"caf\ufffd x"']


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        # Haskell instances are named by their type's constructor, like Rust's impl blocks.
        ("haskell", "instance Binary Void where\n  put = absurd\n", [("impl", "Void")]),
        ("haskell", "instance Binary (Proxy a) where\n  put _ = pure ()\n", [("impl", "Proxy")]),
        (
            "haskell",
            "instance (Monad m, Monoid w) => MonadState s (RWS.RWST r w s m) where\n  get = RWS.get\n",
            [("impl", "RWS.RWST")],
        ),
        ("haskell", "instance Binary a => Binary [a] where\n  put = putList\n", [("impl", "[a]")]),
        # A Swift extension of a generic type is named without its arguments.
        ("swift", "extension Range<BigString.Index> {\n}\n", [("impl", "Range")]),
        ("swift", "extension Rope<Chunk>.Builder {\n}\n", [("impl", "Rope<Chunk>.Builder")]),
        # A C++ specialization is named by its template, not by its arguments.
        (
            "cpp",
            "template <>\nstruct less< ::ns::value_t> {\n  bool operator()(int a, int b) const;\n};\n",
            [("struct", "less")],
        ),
        ("cpp", "template <typename T>\nclass Box<T*> {\n  T* p;\n};\n", [("class", "Box")]),
    ],
)
def test_impls_and_specializations_are_named_by_their_type(
    language: str, source: str, expected: list[tuple[str, str]]
) -> None:
    assert [(d.kind, d.name) for d in _defs(language, source) if d.kind != "function"] == expected


def test_a_name_completed_with_an_invented_token_is_its_last_part() -> None:
    # After an unknown macro, ``static basic_json meta()`` parses as ``basic_json::meta`` with a
    # MISSING "::"; the function is ``meta``, and a real qualified name stays as written.
    source = "JSON_WARN_UNUSED\nstatic basic_json meta()\n{\n    return {};\n}\n"
    source += "void Router::add_route(int r)\n{\n}\n"
    assert [d.name for d in _defs("cpp", source)] == ["meta", "Router::add_route"]


def test_nested_wrappers_of_the_same_definition_are_deduped_but_distinct_names_kept() -> None:
    source = "@a\n@b\ndef f():\n    def f():\n        pass\n    def g():\n        pass\n"
    defs = _defs("python", source)
    # The outer decorated f swallows the bare function_definition of itself; its nested
    # inner f is the same name and kind inside it, so it folds in too (the documented rule).
    assert [(d.kind, d.name, d.node.type) for d in defs] == [
        ("function", "f", "decorated_definition"),
        ("function", "g", "function_definition"),
    ]


def test_query_predicates_work() -> None:
    # #eq?, #any-of? and #match? drive the Elixir query; check each excludes what it should.
    source = "defmodule A do\n  import B\n  def f(x), do: x\n  defp g, do: 1\n  defmacro m(a), do: a\nend\n"
    source += "defimpl P, for: Map do\nend\ndefimpl Q do\nend\n"
    assert [(d.kind, d.name) for d in _defs("elixir", source)] == [
        ("module", "A"),
        ("function", "f"),
        ("function", "g"),
        ("macro", "m"),
        ("impl", "Map"),
        ("impl", "Q"),
    ]


# Code that looks like a definition but is not one (no body, a call, a plain value).
NOT_DEFINITIONS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "dart": (
        "abstract class A {\n  void f();\n  external int g();\n  A.named() : this();\n  factory A.make() = B;\n}\n"
        "void main() => run(() {});\n",
        [("class", "A"), ("function", "main")],
    ),
    "ocaml": (
        'let version = "1.0"\nlet (a, b) = (1, 2)\nmodule M = Map.Make (String)\ntype t\nlet () = f version\n',
        [],
    ),
    "erlang": (
        "-module(m).\n-spec f(integer()) -> integer().\n-callback init(term()) -> ok.\nf(X) -> fun(Y) -> Y end.\n",
        [("function", "f")],
    ),
    "julia": ("x = 1\nx += f(y)\nf(x) == 1\nfunction g end\nmap(x -> x + 1, xs)\n", []),
    "r": (
        "x <- 5\nlst <- list(a = function() 1)\nlapply(xs, FUN = function(x) x)\n"
        'foo("N", public = list(m = function() 1))\nsetGeneric("area")\n',
        [],
    ),
}


@pytest.mark.parametrize("language", sorted(NOT_DEFINITIONS))
def test_declarations_calls_and_values_are_not_definitions(language: str) -> None:
    source, expected = NOT_DEFINITIONS[language]
    spec = _spec(language)
    tree = new_parser(spec).parse(source.encode("utf-8"))
    assert not tree.root_node.has_error
    assert [(d.kind, d.name) for d in definitions(spec, tree.root_node)] == expected


def test_ocaml_interfaces_use_the_interface_grammar() -> None:
    # The implementation grammar cannot parse top-level `val` specifications.
    source = CASES["ocaml_interface"][1].encode("utf-8")
    assert new_parser(_spec("ocaml")).parse(source).root_node.has_error
    assert not new_parser(_spec("ocaml_interface")).parse(source).root_node.has_error


def test_groovy_calls_with_closures_are_not_definitions() -> None:
    # The Groovy grammar has no declaration nodes: `name(args) {` is a method only after a
    # type or modifier. DSL blocks, control flow and Gradle tasks must not become functions.
    source = "pipeline {\n    stages {\n        stage('Build') {\n            steps { sh 'make' }\n"
    source += "        }\n    }\n}\n\n"
    source += "if (ready) {\n    run()\n} else if (late) {\n    retry(3) {\n        run()\n    }\n}\n\n"
    source += "task hello(type: Copy) {\n    from 'src'\n}\n\ndef deploy(String env) {\n    sh \"deploy ${env}\"\n}\n"
    assert [(d.kind, d.name) for d in _defs("groovy", source)] == [("function", "deploy")]


BROKEN: dict[str, tuple[str, set[tuple[str, str]]]] = {
    "python": (
        "def ok(a):\n    return a\n\nclass Broken:\n    def method(self:\n        pass\n\ndef after():\n    return 1\n",
        {("function", "ok"), ("function", "after")},
    ),
    "javascript": (
        "function ok() {\n  return 1;\n}\n\nclass Broken {\n  method() {\n    if (x {\n  }\n\nfunction after() {}\n",
        {("function", "ok")},
    ),
    "typescript": (
        "interface A {\n  x: number;\n}\n\nfunction f(a: number {\n  return a;\n}\n\nclass C {\n  m(): void {}\n",
        {("interface", "A")},
    ),
    "go": ("package p\n\nfunc Ok() int {\n\treturn 1\n}\n\nfunc Broken( {\n\nfunc After() {}\n", {("function", "Ok")}),
    "rust": (
        "fn ok() -> i32 {\n    1\n}\n\nimpl Broken {\n    fn method(&self) {\n        let x = ;\n    }\n",
        {("function", "ok")},
    ),
    "java": ("class A {\n    void ok() {}\n    void broken( {\n    }\n}\n", {("class", "A"), ("method", "ok")}),
    "c": (
        "int ok(void) {\n    return 0;\n}\n\nint broken(int a {\n    return a;\n}\n\nstruct s { int x;\n",
        {("function", "ok")},
    ),
    "cpp": ("namespace n {\nclass A {\n  void f() {}\n};\nint g( {\n", {("class", "A")}),
    "ruby": ("class A\n  def ok\n    1\n  end\n\n  def broken(\n", {("method", "ok")}),
    "elixir": ("defmodule A do\n  def ok, do: 1\n  def broken(x do\nend\n", {("function", "ok")}),
    "zig": ("fn ok() void {}\nconst S = struct {\n    fn m() void {\n", {("function", "ok")}),
    "haskell": ("module M where\n\nok x = x\n\nbroken = (\n\nafter y = y\n", {("function", "ok")}),
    "dart": (
        "int ok(int a) {\n  return a;\n}\n\nclass Cart {\n  int get size => 0;\n  void add(Item i {\n  }\n}\n",
        {("function", "ok"), ("method", "size")},
    ),
    "ocaml": (
        "let ok x = x + 1\n\nlet broken y =\n  (y +\n\nlet after z = z\n",
        {("function", "ok"), ("function", "after")},
    ),
    "erlang": (
        "ok(X) -> X + 1.\n\nbroken(Y ->\n    Y.\n\nafter(Z) -> Z.\n",
        {("function", "ok"), ("function", "after")},
    ),
    "julia": (
        "function ok(x)\n    x + 1\nend\n\nfunction broken(y\n    y\nend\n\nafter(z) = z\n",
        {("function", "ok"), ("function", "after")},
    ),
    "r": ("ok <- function(x) {\n  x + 1\n}\n\nbroken <- function(y {\n  y\n}\n", {("function", "ok")}),
    "perl": ("sub ok {\n    return 1;\n}\n\nsub broken {\n    my $x = ;\n\nsub after { 2 }\n", {("function", "ok")}),
    "objc": (
        "@implementation A\n- (void)ok {\n}\n- (void)broken {\n    [self foo:;\n}\n@end\n",
        {("impl", "A"), ("method", "ok")},
    ),
    "clojure": ("(defn ok [x]\n  (inc x))\n\n(defn broken [x]\n  (let [y x]\n", {("function", "ok")}),
    # Ordinary Groovy: this grammar has no rule for * ?: < and makes ERROR nodes of them,
    # but they stay local and the definitions around them survive.
    "groovy": (
        "class Cart {\n    BigDecimal total(List<Item> items) {\n"
        "        items.sum { it.price * it.qty } ?: 0\n    }\n\n"
        "    boolean isEmpty() {\n        items.size() < 1\n    }\n}\n",
        {("class", "Cart"), ("function", "total"), ("function", "isEmpty")},
    ),
    "fsharp": ("let ok x = x + 1\n\nlet broken (x =\n\nlet after y = y\n", {("function", "ok")}),
}


@pytest.mark.parametrize("language", sorted(BROKEN))
def test_broken_code_yields_recovered_definitions(language: str) -> None:
    source, expected = BROKEN[language]
    spec = _spec(language)
    tree = new_parser(spec).parse(source.encode("utf-8"))
    assert tree.root_node.has_error
    got = {(d.kind, d.name) for d in definitions(spec, tree.root_node)}
    assert expected <= got


@pytest.mark.parametrize("language", CST_LANGUAGES)
def test_truncated_samples_never_raise(language: str) -> None:
    _, source, _ = CASES[language]
    data = source.encode("utf-8")
    spec = _spec(language)
    parser = new_parser(spec)
    for cut in range(0, len(data), max(1, len(data) // 25)):
        for d in definitions(spec, parser.parse(data[:cut]).root_node):
            assert d.node.end_byte <= cut


EXTENSIONS = {
    "python": [".py", ".pyi"],
    "javascript": [".js", ".jsx", ".mjs", ".cjs"],
    "typescript": [".ts", ".mts", ".cts"],
    "tsx": [".tsx"],
    "go": [".go"],
    "rust": [".rs"],
    "java": [".java"],
    "c": [".c", ".h"],
    "cpp": [".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".ipp", ".inl"],
    "csharp": [".cs"],
    "ruby": [".rb", ".rake"],
    "php": [".php"],
    "kotlin": [".kt", ".kts"],
    "swift": [".swift"],
    "scala": [".scala"],
    "lua": [".lua"],
    "bash": [".sh", ".bash", ".zsh"],
    "elixir": [".ex", ".exs"],
    "haskell": [".hs"],
    "zig": [".zig"],
    "dart": [".dart"],
    "ocaml": [".ml"],
    "ocaml_interface": [".mli"],
    "erlang": [".erl", ".hrl"],
    "julia": [".jl"],
    "r": [".r"],
    "perl": [".pl", ".pm", ".t"],
    "objc": [".m", ".mm"],
    "clojure": [".clj", ".cljs", ".cljc", ".edn"],
    "groovy": [".groovy", ".gradle"],
    "fsharp": [".fs", ".fsi", ".fsx"],
}


@pytest.mark.parametrize("language", CST_LANGUAGES)
def test_required_extensions_map_to_their_language(language: str) -> None:
    for ext in EXTENSIONS[language]:
        for path in (f"a{ext}", f"src/deep/dir/name.test{ext}", f"UPPER{ext.upper()}"):
            spec = language_for_path(path)
            assert spec is not None and spec.name == language, path


def test_every_declared_extension_and_filename_maps_back_to_its_language() -> None:
    for spec in all_languages().values():
        for ext in spec.extensions:
            found = language_for_path(f"dir/file{ext}")
            assert found is not None and found.name == spec.name, ext
        for filename in spec.filenames:
            sample = filename.replace("*", "dev")
            found = language_for_path(f"some/dir/{sample}")
            assert found is not None and found.name == spec.name, filename


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("Makefile", "make"),
        ("sub/GNUmakefile", "make"),
        ("rules.mk", "make"),
        ("Dockerfile", "dockerfile"),
        ("docker/Dockerfile.dev", "dockerfile"),
        ("README.md", "markdown"),
        ("x.md", "markdown"),
        ("docs/index.rst", "restructuredtext"),
        ("notes.txt", "text"),
        ("LICENSE", "text"),
        ("CMakeLists.txt", "cmake"),
        ("package.json", "json"),
        (".github/workflows/ci.yml", "yaml"),
        ("pyproject.toml", "toml"),
        ("index.html", "html"),
        ("style.css", "css"),
        ("schema.sql", "sql"),
        ("pom.xml", "xml"),
    ],
)
def test_text_languages_have_no_grammar(path: str, language: str) -> None:
    spec = language_for_path(path)
    assert spec is not None and spec.name == language
    assert spec.grammar is None and not has_grammar(spec)


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("Rakefile", "ruby"),
        ("Gemfile", "ruby"),
        ("lib/tasks/db.rake", "ruby"),
        ("home/.bashrc", "bash"),
        ("src\\win\\main.rs", "rust"),
        ("types/index.d.ts", "typescript"),
        ("a.b.c.py", "python"),
        ("Jenkinsfile", "groovy"),
        ("app/build.gradle", "groovy"),
    ],
)
def test_filenames_and_odd_paths(path: str, language: str) -> None:
    spec = language_for_path(path)
    assert spec is not None and spec.name == language


@pytest.mark.parametrize("path", ["", "dir/", "noext", "archive.unknownext", ".hidden", "file."])
def test_unknown_paths(path: str) -> None:
    assert language_for_path(path) is None


def test_registry_shape() -> None:
    languages = all_languages()
    assert set(CST_LANGUAGES) <= set(languages)
    for name, spec in languages.items():
        assert spec.name == name == name.lower()
        assert isinstance(spec.extensions, tuple) and isinstance(spec.filenames, tuple)
        assert language_by_name(name) is spec
    assert language_by_name("nope") is None
    languages.clear()  # a copy: callers cannot break the registry
    assert language_by_name("python") is not None


def test_every_grammar_loads_offline_and_every_query_compiles() -> None:
    queries = {
        f.name.removesuffix(".scm")
        for f in resources.files("lapce_ai.parsing").joinpath("queries").iterdir()
        if f.name.endswith(".scm")
    }
    with_grammar = {name for name, spec in all_languages().items() if spec.grammar is not None}
    # Every query belongs to a CST language (files starting with "_" are shared includes).
    assert {q for q in queries if not q.startswith("_")} == with_grammar
    for name in with_grammar:
        spec = _spec(name)
        assert has_grammar(spec)
        parser = new_parser(spec)
        tree = parser.parse(b"")
        assert isinstance(tree, tree_sitter.Tree)
        assert definitions(spec, tree.root_node) == []  # compiles the query


def test_new_parser_rejects_text_languages() -> None:
    with pytest.raises(ValueError):
        new_parser(_spec("markdown"))
    assert definitions(_spec("markdown"), new_parser(_spec("python")).parse(b"def f(): pass").root_node) == []


def test_parsers_are_fresh_and_queries_shared_across_threads() -> None:
    spec = _spec("rust")
    assert new_parser(spec) is not new_parser(spec)
    _, source, expected = CASES["rust"]

    def run(_: int) -> list[tuple[str, str]]:
        tree = new_parser(spec).parse(source.encode("utf-8"))
        return [(d.kind, d.name) for d in definitions(spec, tree.root_node)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(32)))
    assert all(r == expected for r in results)


def test_language_aliases_are_unique_and_kinds_come_from_the_queries() -> None:
    from lapce_ai.parsing.languages import canonical_language, chunk_kinds

    assert canonical_language("Golang") == "go" and canonical_language("c++") == "cpp"
    assert canonical_language("TypeScript") == "typescript" and canonical_language("klingon") is None
    seen: dict[str, str] = {}
    for name, spec in all_languages().items():
        for alias in (name, *spec.aliases):
            assert seen.setdefault(alias.lower(), name) == name, alias
    assert {"function", "method", "class", "impl", "macro", "module", "window"} <= chunk_kinds()


def test_extension_files_and_file_is_type_are_checked() -> None:
    swift, python = language_by_name("swift"), language_by_name("python")
    assert swift is not None and swift.extension_files == "+"
    assert python is not None and python.extension_files is None and not python.file_is_type
    zig = language_by_name("zig")
    assert zig is not None and zig.file_is_type
    assert _flag("zig", "file_is_type", True) is True
    with pytest.raises(ValueError, match=r"\[zig\] file_is_type must be true or false"):
        _flag("zig", "file_is_type", "yes")
    assert _extension_files("swift", None) is None and _extension_files("swift", "+") == "+"
    for bad in ("", "++", "a", "1", ".", "/", "\\", 3):
        with pytest.raises(ValueError, match=r"\[swift\] extension_files"):
            _extension_files("swift", bad)


def test_method_receivers_and_interface_methods_are_checked() -> None:
    go, python = language_by_name("go"), language_by_name("python")
    assert go is not None and go.method_receiver is not None and go.method_line is not None
    assert python is not None and python.method_receiver is None and python.structural_declaration is not None
    assert go.structural_declaration is not None
    protocol = python.structural_declaration.match("class Embedder(Protocol):")
    assert protocol is not None and protocol.group("name") == "Embedder"
    assert python.structural_declaration.match("class Embedder(Base):") is None
    receiver = go.method_receiver.match("func (s *Stack[T]) Push(x T) {")
    assert receiver is not None and receiver.group("type") == "Stack"
    assert go.method_receiver.match("func New() *Stack") is None  # a function, no receiver
    assert go.embedded_line is not None and python.embedded_line is None
    embedded = [go.embedded_line.match(line) for line in ("\tReader", "\thttp.Flusher // flushes", "\tRead() int", "}")]
    assert [m.group("name") if m else None for m in embedded] == ["Reader", "Flusher", None, None]
    assert _pattern("go", "method_receiver", {}, "type") is None
    for bad in ("(", r"^func (\w+)", 3):
        with pytest.raises(ValueError, match=r"\[go\] method_receiver must be a regex with a group named 'type'"):
            _pattern("go", "method_receiver", {"method_receiver": bad}, "type")


@pytest.mark.parametrize(
    ("language", "line", "name"),
    [
        ("java", "public abstract class AbstractMap<K, V> implements Map<K, V> {", "AbstractMap"),
        ("java", "abstract class Handler {", "Handler"),
        ("java", "public class HashMap<K, V> extends AbstractMap<K, V> {", None),
        ("java", "public abstract void handle(Request r);", None),  # an abstract method, no class
        ("kotlin", "abstract class Op<T> : Expression<T>() {", "Op"),
        ("kotlin", "sealed class Result", None),
        ("csharp", "public abstract partial class Stream : IDisposable", "Stream"),
        ("php", "abstract class AbstractController", "AbstractController"),
        ("typescript", "export abstract class Transport {", "Transport"),
        ("scala", "sealed abstract class Option[+A] extends IterableOnce[A]", "Option"),
        ("scala", "private[concurrent] abstract class AbstractBatch(", "AbstractBatch"),
        ("java", '@SuppressWarnings("unchecked") abstract static class Node<K> {', "Node"),
        ("java", "int x = abstract_count; class Foo {", None),
        ("dart", "abstract interface class Codec<S, T> {", "Codec"),
        ("python", "class Handler(ABC):", "Handler"),
        ("python", "class Handler(Base, metaclass=ABCMeta):", "Handler"),
        ("python", "class Handler(Base):", None),
    ],
)
def test_abstract_declarations_are_read_per_language(language: str, line: str, name: str | None) -> None:
    spec = language_by_name(language)
    assert spec is not None and spec.abstract_declaration is not None
    m = spec.abstract_declaration.search(line)
    assert (m.group("name") if m else None) == name


def test_abstract_declarations_stay_linear_on_hostile_lines() -> None:
    spec = language_by_name("java")
    assert spec is not None and spec.abstract_declaration is not None
    started = time.perf_counter()
    assert spec.abstract_declaration.search("public " * 20_000 + "abstract x") is None
    assert spec.abstract_declaration.search("abstract " * 20_000 + "x") is None
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    ("language", "line", "abstract"),
    [
        ("python", "    @abstractmethod", True),
        ("python", "    @abc.abstractproperty", True),
        ("python", "    @abstractmethod_helper", False),
        ("python", "    # @abstractmethod would make it abstract", False),
        ("cpp", "  virtual std::string encode(const Value& v) const = 0;", True),
        ("cpp", "  virtual int g(int a = 0) = 0;", True),
        ("cpp", "  virtual void h(int a = 0);", False),
        ("cpp", "  virtual ~Codec() = default;", False),
    ],
)
def test_abstract_members_are_read_per_language(language: str, line: str, abstract: bool) -> None:
    spec = language_by_name(language)
    assert spec is not None and spec.abstract_member is not None
    assert (spec.abstract_member.search(line) is not None) == abstract
    started = time.perf_counter()
    assert spec.abstract_member.search("  virtual " + "= " * 30_000 + "x;") is None
    assert time.perf_counter() - started < 2.0
