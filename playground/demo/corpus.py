"""The small built-in English corpus the demo models and their tokenizers are trained on."""

from __future__ import annotations

# (question, answer) pairs: short, plain sentences a tiny model can learn to end.
QA: tuple[tuple[str, str], ...] = (
    ("Hello!", "Hello! How can I help you today?"),
    ("Hi there.", "Hi! What would you like to talk about?"),
    ("Who are you?", "I am a tiny demo model. I am not a real assistant."),
    ("What are you?", "I am a small demo model built for testing."),
    ("What colour is the sky?", "The sky is blue on a clear day."),
    ("What colour is grass?", "Grass is green."),
    ("What colour is snow?", "Snow is white."),
    ("What colour is the sun?", "The sun looks yellow from here."),
    ("What do cats like?", "Cats like warm places, naps and fish."),
    ("What do dogs like?", "Dogs like walks, games and their people."),
    ("What sound does a cat make?", "A cat says meow."),
    ("What sound does a dog make?", "A dog says woof."),
    ("Where do fish live?", "Fish live in water."),
    ("Where do birds live?", "Birds live in trees and nests."),
    ("What is the capital of France?", "The capital of France is Paris."),
    ("What is the capital of Italy?", "The capital of Italy is Rome."),
    ("What is the capital of Japan?", "The capital of Japan is Tokyo."),
    ("What is water made of?", "Water is made of hydrogen and oxygen."),
    ("Is the earth round?", "Yes, the earth is round."),
    ("How many days are in a week?", "There are seven days in a week."),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("How many legs does a cat have?", "A cat has four legs."),
    ("What is two plus two?", "Two plus two is four."),
    ("What is three plus four?", "Three plus four is seven."),
    ("What is ten minus one?", "Ten minus one is nine."),
    ("Tell me a joke.", "Why did the cat sit on the computer? To keep an eye on the mouse."),
    ("Tell me a story.", "A small cat found a red ball. She played with it all day and then slept."),
    ("Write a poem.", "The moon is bright, the night is long, the wind sings a quiet song."),
    ("Say something nice.", "You are doing a great job today."),
    ("What is the weather like?", "I cannot see outside, but I hope it is sunny."),
    ("What time is it?", "I do not have a clock, so I cannot tell."),
    ("Can you help me?", "Yes, I will try my best to help."),
    ("Thank you!", "You are welcome!"),
    ("Goodbye.", "Goodbye! Have a nice day."),
    ("What is a tree?", "A tree is a tall plant with a trunk and leaves."),
    ("What is rain?", "Rain is water that falls from clouds."),
    ("Why is the sea salty?", "The sea is salty because rivers carry salt from rocks."),
    ("What do bees make?", "Bees make honey."),
    ("What do cows give us?", "Cows give us milk."),
    ("What is the opposite of hot?", "The opposite of hot is cold."),
    ("What is the opposite of big?", "The opposite of big is small."),
    ("Name a fruit.", "An apple is a fruit."),
    ("Name a colour.", "Red is a colour."),
    ("Describe a cat.", "A cat is small and soft, with sharp ears and a long tail."),
    ("Describe the night.", "The night is dark and quiet, with stars in the sky."),
    ("Are you a real model?", "No, I am a tiny demo model with very few parameters."),
    ("Start!", "You stand before an old house. Do you go inside, walk away or run?"),
    ("Go inside.", "The door creaks open. A cat watches you from the stairs."),
)

# (question, rationale, answer) triples for the TinyCoT rationale/answer format.
COT: tuple[tuple[str, str, str], ...] = (
    ("What is two plus three?", "Two plus three means adding three to two, which gives five.", "5"),
    ("What is four plus four?", "Four and four more make eight.", "8"),
    ("What is six minus two?", "Taking two away from six leaves four.", "4"),
    ("How many legs do two cats have?", "One cat has four legs, so two cats have eight legs.", "8"),
    ("Is snow hot or cold?", "Snow is frozen water, and frozen things are cold.", "cold"),
    ("Which is bigger, a cat or a mouse?", "A cat is larger than a mouse.", "a cat"),
)

SYSTEMS: tuple[str, ...] = (
    "You are a helpful assistant.",
    "Answer briefly.",
    "You are a friendly cat.",
)

# Plain prose mixed into tokenizer training so that ordinary words get merges.
PROSE = (
    "The quick brown fox jumps over the lazy dog. A cat sat on the warm mat and watched the rain. "
    "People ask questions and a good assistant answers them with short, clear sentences. "
    "Models read tokens, and tokenizers turn text into tokens and back into text again."
)
